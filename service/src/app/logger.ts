import pino, { type Logger } from 'pino';

// Secrets never reach the logs: we do not log headers or bodies, and these
// paths are censored should anything carrying them be logged by mistake.
const REDACT = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'serviceRoleKey',
  '*.serviceRoleKey',
  'password',
  '*.password',
  'config.apiKey',
  'config.apollo.apiKey',
  'config.openai.apiKey',
  'config.firecrawl.apiKey',
  'unsubscribeSecret',
  '*.unsubscribeSecret',
  'config.database.url',
  'config.database.serviceRoleKey',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'corofy' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
