import type { ApolloClient } from '../apollo/apollo-client';
import type { Config } from '../config/env';
import type { Database } from '../db/database';
import type { ComposeProviders } from '../providers/compose-providers';
import type { SecretBox } from '../secrets/secret-box';
import type { Logger } from './logger';

/**
 * What every route and background worker may use. Capabilities add their
 * services here. Kept apart from the app and the router so a worker (sweeper,
 * dispatcher, watcher) needs neither.
 */
export interface AppDeps extends ComposeProviders {
  config: Config;
  db: Database;
  logger: Logger;
  schemaVersion: string;
  /** The API key every /v1 route requires (generated on the embedded default). */
  apiKey: string;
  /** Where an operator finds that key, for the wrong-key problem (never the key itself). */
  apiKeySource?: string;
  /** Apollo's people API; undefined when APOLLO_API_KEY is not set. */
  apollo?: ApolloClient;
  /** Seals and opens mailbox secrets (COROFY_SECRET_KEY). */
  secretBox: SecretBox;
  /** The running dispatcher (delivery "corofy"), when enabled: nudged when sends are handed to it. */
  dispatcher?: { nudge(): void };
  /** Wakes the webhook outbox after an event was recorded (a no-op when deliveries are off). */
  wakeWebhooks?: () => void;
}
