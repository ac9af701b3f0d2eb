import { createLogger } from './app/logger';
import { ConfigError, loadConfig } from './config/env';
import type { Database } from './db/database';
import { SchemaBehindError, SchemaEditedError, SchemaError } from './db/migrations';
import { startService } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);

  let closeSandbox = async () => {};
  let seedSandbox = async (_db: Database) => {};
  if (config.sandbox) {
    // Loaded only in sandbox mode: local fakes of Apollo, OpenAI and Firecrawl.
    const { startSandboxProviders, seedSandboxProfile } = await import('../../sandbox/sandbox-providers');
    const sandbox = await startSandboxProviders(config);
    config = sandbox.config;
    closeSandbox = sandbox.close;
    seedSandbox = seedSandboxProfile;
    logger.warn('sandbox mode: Apollo, OpenAI and Firecrawl are local fakes; nothing real is called');
  }

  let service;
  try {
    service = await startService(config, logger);
    await seedSandbox(service.deps.db);
  } catch (err) {
    if (err instanceof SchemaError) {
      logger.fatal(
        {
          code: err.code,
          ...(err instanceof SchemaBehindError && { missing: err.missing.map((m) => `${m.version}_${m.name}`) }),
          ...(err instanceof SchemaEditedError && { edited: err.edited.map((m) => `${m.version}_${m.name}`) }),
        },
        err.message,
      );
      process.stderr.write(`${err.message}\n`);
      process.exit(3);
    }
    logger.fatal({ err }, 'could not start');
    process.stderr.write(`Could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    // A stuck request must not keep the process (and the PGlite lock) forever.
    const force = setTimeout(() => {
      logger.error('shutdown took over 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    service.close().then(closeSandbox).then(
      () => {
        logger.info('stopped cleanly');
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
