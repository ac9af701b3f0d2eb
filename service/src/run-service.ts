import { createLogger, type Logger } from './app/logger';
import { ConfigError, loadConfig, type Config } from './config/env';
import { SchemaBehindError, SchemaEditedError, SchemaError } from './db/migrations';
import { startService, type RunningService } from './server';

/**
 * What an entry runs beside the service in the same process: the sandbox's
 * local fakes (sandbox/main.ts). The service itself knows nothing of them.
 */
export interface Companions {
  /** Starts them and returns the configuration that points the service at them. */
  start(config: Config, logger: Logger): Promise<{ config: Config; close(): Promise<void> }>;
  /** Runs once the service is up (the sandbox seeds its company's profile). */
  started?(service: RunningService): Promise<void>;
}

/**
 * The service as a process: configuration from the environment, exit codes
 * (2 bad configuration, 3 schema, 1 anything else) and a clean stop on
 * SIGTERM/SIGINT. Used by service/src/main.ts and sandbox/main.ts.
 */
export async function runService(companions?: Companions): Promise<void> {
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
  if (config.sandbox && !companions) {
    process.stderr.write(
      'COROFY_SANDBOX=true needs the local fakes in sandbox/, which the service does not ship: ' +
        'start it with `npm run sandbox` from the repository.\n',
    );
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);

  let closeCompanions = async () => {};
  if (companions) {
    const started = await companions.start(config, logger);
    config = started.config;
    closeCompanions = started.close;
  }

  let service: RunningService;
  try {
    service = await startService(config, logger);
    await companions?.started?.(service);
  } catch (err) {
    await closeCompanions();
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
    service.close().then(closeCompanions).then(
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
