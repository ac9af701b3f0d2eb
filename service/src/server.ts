import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from './app/app';
import type { AppDeps } from './app/deps';
import type { Logger } from './app/logger';
import type { Config } from './config/env';
import { openDatabase } from './db/open-database';
import { startSweeper } from './sweeper/sweeper';
import { startDispatcher } from './dispatch/dispatcher';
import { startWebhookOutbox } from './webhooks/outbox';
import { startMailboxWatchers } from './inbound/imap-watcher';
import { createApolloClient } from './apollo/apollo-client';
import { seedDefaultCatalog } from './catalog/catalog';
import { createComposeProviders } from './providers/compose-providers';
import { resealMailboxSecrets } from './mailboxes/mailbox-settings';
import { createSecretBox, generateSecretKey } from './secrets/secret-box';
import { logStartupReadiness } from './health/providers';

export interface RunningService {
  url: string;
  port: number;
  apiKey: string;
  deps: AppDeps;
  /** The Hono app, for in-process `app.request()` calls in tests. */
  app: ReturnType<typeof createApp>;
  /** Stops accepting, finishes in-flight requests, closes the database. */
  close(): Promise<void>;
}

/** Opens the database, builds the app and listens. Used by main.ts and by tests. */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const { db, schemaVersion, appliedMigrations } = await openDatabase(config.database, config.autoMigrate);
  if (appliedMigrations.length > 0) logger.info({ appliedMigrations }, 'migrations applied');

  let server: ServerType | undefined;
  let stopOutbox = async () => {};
  try {
    const apiKey = config.apiKey ?? embeddedApiKey(config.dataDir, logger);
    const apiKeySource = config.apiKey
      ? 'the COROFY_API_KEY the service runs with (set in its environment)'
      : `the key the service generated on its first start, kept in ${path.join(config.dataDir, 'api-key')} on its machine`;
    await seedDefaultCatalog(db, logger);
    const secretBox = createSecretBox(
      config.secretKey ?? embeddedSecretKey(config.dataDir, logger),
      config.previousSecretKey,
    );
    if (config.previousSecretKey) {
      const resealed = await resealMailboxSecrets({ db, secretBox });
      logger.info({ resealed }, 'mailbox secrets resealed under the current COROFY_SECRET_KEY');
    }
    const deps: AppDeps = {
      config,
      db,
      logger,
      schemaVersion,
      apiKey,
      secretBox,
      apiKeySource,
      apollo: createApolloClient(config.apollo, logger),
      ...createComposeProviders(config, logger),
    };
    const outbox = startWebhookOutbox(deps);
    stopOutbox = outbox.stop;
    deps.wakeWebhooks = outbox.wake;
    const app = createApp(deps);

    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
      s.once('error', reject);
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    logger.info({ url, database: db.kind, schemaVersion }, 'corofy service listening');
    await logStartupReadiness(config, db, logger);
    const stopSweeper = startSweeper(deps, config.sweepIntervalMs);
    // unsubscribe links in dispatched mail point at COROFY_PUBLIC_URL (set it in production)
    const dispatcher = config.dispatch.intervalMs > 0 ? startDispatcher(deps, config.publicUrl ?? url) : undefined;
    deps.dispatcher = dispatcher;
    const watchers = startMailboxWatchers(deps);

    const running = server;
    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      apiKey,
      deps,
      app,
      close: () =>
        (closing ??= (async () => {
          await new Promise<void>((resolve) => {
            running.close(() => resolve());
            // Keep-alive connections with no request in flight would hold close() open.
            if ('closeIdleConnections' in running) running.closeIdleConnections();
          });
          await stopSweeper();
          await dispatcher?.stop();
          await watchers.stop();
          await stopOutbox();
          await db.close();
        })()),
    };
  } catch (err) {
    server?.close();
    await stopOutbox();
    await db.close();
    throw err;
  }
}

/**
 * The embedded default seals mailbox secrets under a key generated on first
 * start and kept beside the data (like the API key), readable by its owner only.
 */
function embeddedSecretKey(dataDir: string, logger: Logger): string {
  const file = path.join(dataDir, 'secret-key');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const key = generateSecretKey();
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  logger.info({ file }, 'generated COROFY_SECRET_KEY for the embedded database');
  return key;
}

/**
 * With nothing configured the embedded default still needs a key: generate one
 * on first start, keep it beside the data and print it once.
 */
function embeddedApiKey(dataDir: string, logger: Logger): string {
  const file = path.join(dataDir, 'api-key');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const key = `crfy_${randomBytes(24).toString('base64url')}`;
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  logger.info({ file }, 'generated an API key for the embedded database');
  process.stdout.write(
    `\nCorofy generated an API key (shown once; it is kept in ${file}):\n\n  ${key}\n\n`,
  );
  return key;
}
