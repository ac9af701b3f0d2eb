import type { Logger } from '../app/logger';
import type { Config } from '../config/env';
import type { Database } from '../db/database';

export type ProviderState = 'configured' | 'sandbox' | 'missing';
export const PROVIDER_STATES = ['configured', 'sandbox', 'missing'] as const;

export interface ProviderStates {
  apollo: ProviderState;
  openai: ProviderState;
  firecrawl: ProviderState;
}

const DEFAULT_FIRECRAWL_URL = 'https://api.firecrawl.dev';

/** Which providers this process can call: real accounts, the sandbox's fakes, or none. */
export function providerStates(config: Config): ProviderStates {
  const state = (usable: boolean): ProviderState => (config.sandbox ? 'sandbox' : usable ? 'configured' : 'missing');
  return {
    apollo: state(config.apollo.apiKey !== undefined),
    openai: state(config.openai.apiKey !== undefined),
    // a self-hosted Firecrawl needs no key, only its URL
    firecrawl: state(config.firecrawl.apiKey !== undefined || config.firecrawl.apiUrl !== DEFAULT_FIRECRAWL_URL),
  };
}

interface SenderRow {
  id: string;
  fromName: string | null;
  postalAddress: string | null;
}

/**
 * One line at start that says what this service can do, and a warning per sender
 * whose emails cannot be composed (every cold email needs a sender name and a
 * postal address: CAN-SPAM), so an operator learns it before the first run fails.
 */
export async function logStartupReadiness(config: Config, db: Database, logger: Logger): Promise<void> {
  const providers = providerStates(config);
  const missing = Object.entries(providers).filter(([, s]) => s === 'missing').map(([p]) => p);
  logger.info(
    { providers },
    `providers: ${Object.entries(providers).map(([p, s]) => `${p} ${s}`).join(', ')}` +
      (missing.length > 0 ? ` (set ${missing.map(envNameFor).join(', ')} to use ${missing.join(', ')})` : ''),
  );
  const senders = await db.call<SenderRow[]>('senders_missing_compose_fields', {});
  for (const s of senders) {
    const lacks = [s.fromName ? undefined : 'fromName', s.postalAddress ? undefined : 'postalAddress'].filter(Boolean);
    logger.warn(
      { sender: s.id, missing: lacks },
      `sender "${s.id}" cannot compose a lawful cold email (CAN-SPAM needs a sender name and a postal address): ` +
        `compose answers 409 sender_incomplete until ${lacks.join(' and ')} ${lacks.length > 1 ? 'are' : 'is'} set with PUT /v1/senders/${s.id}`,
    );
  }
}

function envNameFor(provider: string): string {
  return provider === 'apollo' ? 'APOLLO_API_KEY' : provider === 'openai' ? 'OPENAI_API_KEY' : 'FIRECRAWL_API_KEY';
}
