import path from 'node:path';
import { z } from 'zod';
import { Clock } from '../clock/clock';
import { isIanaZone } from '../timezone/zone-name';

// The environment is read once, here, at start. Nothing else reads process.env.

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = (name: string) =>
  optionalText.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/i.test(v), {
    message: `${name} must be an http(s) URL`,
  });

const flag = (fallback: boolean) => z
  .string()
  .trim()
  .toLowerCase()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return fallback;
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    ctx.addIssue({ code: 'custom', message: 'must be true/false (or 1/0)' });
    return z.NEVER;
  });

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const EnvSchema = z.object({
  PORT: integer(8787, 0, 65535),
  HOST: optionalText.default('127.0.0.1'),
  COROFY_API_KEY: optionalText.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters',
  }),
  COROFY_DATA_DIR: optionalText.default('./.corofy/data'),
  COROFY_PUBLIC_URL: url('COROFY_PUBLIC_URL'),
  COROFY_BODY_LIMIT_BYTES: integer(1024 * 1024, 1024, 64 * 1024 * 1024),
  COROFY_IMPORT_BODY_LIMIT_BYTES: integer(8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
  COROFY_INBOUND_BODY_LIMIT_BYTES: integer(10 * 1024 * 1024, 1024, 64 * 1024 * 1024),
  COROFY_WEBHOOK_INTERVAL_MS: integer(1000, 0, 3_600_000),
  COROFY_IMAP_SCAN_INTERVAL_MS: integer(15_000, 0, 3_600_000),
  COROFY_IMAP_POLL_SECONDS: integer(60, 1, 86400),
  COROFY_IMAP_LEASE_SECONDS: integer(60, 5, 3600),
  COROFY_WEBHOOK_MAX_ATTEMPTS: integer(8, 1, 100),
  COROFY_WEBHOOK_BACKOFF_SECONDS: integer(30, 0, 86400),
  COROFY_WEBHOOK_TIMEOUT_MS: integer(10_000, 100, 300_000),
  COROFY_DEFAULT_TIMEZONE: optionalText.default('UTC'),
  COROFY_SANDBOX: flag(false),
  COROFY_AUTO_MIGRATE: flag(true),
  COROFY_SWEEP_INTERVAL_MS: integer(15_000, 0, 3_600_000),
  COROFY_RETENTION_DAYS: integer(365, 0, 36_500),
  COROFY_CLAIM_LEASE_SECONDS: integer(3600, 1, 7 * 86400),
  COROFY_SEND_LEASE_SECONDS: integer(600, 1, 86400),
  COROFY_SEND_MAX_ATTEMPTS: integer(5, 1, 100),
  COROFY_RETRY_BACKOFF_SECONDS: integer(300, 0, 86400),
  COROFY_UNSUBSCRIBE_SECRET: optionalText.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters',
  }),
  COROFY_DISPATCH_INTERVAL_MS: integer(1000, 0, 3_600_000),
  COROFY_MAILBOX_LEASE_SECONDS: integer(30, 5, 3600),
  COROFY_SMTP_RATE_PER_SECOND: integer(5, 1, 1000),
  COROFY_SMTP_TIMEOUT_MS: integer(30_000, 100, 600_000),
  COROFY_SMTP_MAX_MESSAGES_PER_CONNECTION: integer(100, 1, 100_000),
  COROFY_SECRET_KEY: optionalText.refine((v) => v === undefined || v.length >= 32, {
    message: 'must be at least 32 characters (e.g. `openssl rand -base64 32`)',
  }),
  COROFY_SECRET_KEY_PREVIOUS: optionalText.refine((v) => v === undefined || v.length >= 32, {
    message: 'must be at least 32 characters',
  }),
  DATABASE_URL: optionalText.refine((v) => v === undefined || /^postgres(ql)?:\/\//i.test(v), {
    message: 'must be a postgres:// or postgresql:// connection string',
  }),
  DATABASE_POOL_SIZE: integer(10, 1, 200),
  DATABASE_QUERY_TIMEOUT_MS: integer(30_000, 100, 3_600_000),
  SUPABASE_URL: url('SUPABASE_URL'),
  SUPABASE_SERVICE_ROLE_KEY: optionalText,
  APOLLO_API_KEY: optionalText,
  APOLLO_BASE_URL: url('APOLLO_BASE_URL').default('https://api.apollo.io'),
  APOLLO_MAX_RETRIES: integer(4, 0, 20),
  APOLLO_RETRY_BASE_MS: integer(500, 0, 60_000),
  APOLLO_MAX_RETRY_AFTER_S: integer(60, 0, 3600),
  APOLLO_TIMEOUT_MS: integer(30_000, 100, 600_000),
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: url('OPENAI_BASE_URL').default('https://api.openai.com/v1'),
  OPENAI_MODEL: optionalText.default('gpt-4o-mini'),
  FIRECRAWL_API_KEY: optionalText,
  FIRECRAWL_API_URL: url('FIRECRAWL_API_URL').default('https://api.firecrawl.dev'),
  OPENAI_RPM: integer(500, 1, 10_000_000),
  OPENAI_TPM: integer(200_000, 100, 1_000_000_000),
  OPENAI_MAX_RETRIES: integer(5, 0, 20),
  OPENAI_RETRY_BASE_MS: integer(1000, 1, 120_000),
  OPENAI_TIMEOUT_MS: integer(60_000, 100, 600_000),
  OPENAI_MAX_OUTPUT_TOKENS: integer(700, 50, 16_000),
  FIRECRAWL_TIMEOUT_MS: integer(30_000, 100, 300_000),
  FIRECRAWL_MAX_RETRIES: integer(2, 0, 10),
  FIRECRAWL_RETRY_BASE_MS: integer(1000, 1, 120_000),
  COMPOSE_CONCURRENCY: integer(16, 1, 256),
  COMPOSE_MAX_TEXT_CHARS: integer(1500, 200, 20_000),
  COROFY_WEBSITE_CACHE_TTL_HOURS: integer(720, 0, 87_600),
  COROFY_WEBSITE_MAX_CHARS: integer(20_000, 500, 1_000_000),
  COROFY_WEBSITE_PORTS: optionalText.default('80,443'),
  COROFY_DNS_OVERRIDES: optionalText,
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional()
    .default('info'),
  // npm sets INIT_CWD to where the command was typed; relative paths are taken from there.
  INIT_CWD: optionalText,
});

export type DatabaseTarget =
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'postgres'; url: string; poolSize: number; queryTimeoutMs: number }
  | { kind: 'supabase'; url: string; serviceRoleKey: string };

export interface Config {
  port: number;
  host: string;
  apiKey: string | undefined;
  dataDir: string;
  publicUrl: string | undefined;
  bodyLimitBytes: number;
  importBodyLimitBytes: number;
  /** POST /v1/inbound takes a whole raw message (attachments included). */
  inboundBodyLimitBytes: number;
  imap: {
    /** How often this replica looks for mailboxes to watch and renews its leases (0: it watches none). */
    scanIntervalMs: number;
    /** Without IDLE (and for the spam folder), how often a mailbox is read. */
    pollSeconds: number;
    /** A replica that stops renewing its lease this long loses the mailbox to another. */
    leaseSeconds: number;
  };
  webhooks: {
    /** How often the outbox is polled (0: never; a recorded event also wakes it). */
    intervalMs: number;
    /** After this many failed attempts a delivery is a dead letter. */
    maxAttempts: number;
    /** The first retry waits this long; each further one twice as long. */
    backoffSeconds: number;
    timeoutMs: number;
  };
  defaultTimezone: string;
  sandbox: boolean;
  /** The service's clock (movable only in sandbox mode, for tests and demos). */
  clock: Clock;
  /** Apply pending migrations at start (PGlite, DATABASE_URL); off: only check. */
  autoMigrate: boolean;
  sweepIntervalMs: number;
  /** Event texts and the bodies of finished sends older than this many days are removed by the sweeper (0: kept). */
  retentionDays: number;
  /** A claimed lead not composed within this returns to 'new'. */
  claimLeaseSeconds: number;
  /** A send 'sending' this long without an outcome goes to needs_review. */
  sendLeaseSeconds: number;
  /** Transient failures are retried until a send has had this many attempts. */
  sendMaxAttempts: number;
  /** The first retry waits this long; each further one twice as long. */
  retryBackoffSeconds: number;
  /** Signs unsubscribe links; generated once and kept in the database when unset. */
  unsubscribeSecret: string | undefined;
  /** The dispatcher (delivery "corofy"): how often it looks for due sends and renews its mailbox leases (0: off). */
  dispatch: {
    intervalMs: number;
    /** A mailbox whose driver stops renewing for this long is taken over by another replica. */
    mailboxLeaseSeconds: number;
    /** The most messages per second one mailbox sends (the gate's pacing gap comes on top). */
    smtpRatePerSecond: number;
    smtpTimeoutMs: number;
    maxMessagesPerConnection: number;
  };
  /** Seals mailbox secrets at rest; generated and kept beside the data on the embedded default. */
  secretKey: string | undefined;
  /** The key being rotated away from: still opens old values, which are resealed at start. */
  previousSecretKey: string | undefined;
  database: DatabaseTarget;
  apollo: {
    apiKey: string | undefined;
    baseUrl: string;
    /** Retries of 429/5xx/timeouts after the first attempt. */
    maxRetries: number;
    retryBaseMs: number;
    /** A longer retry-after is not waited for: the search fails with apollo_rate_limited. */
    maxRetryAfterS: number;
    timeoutMs: number;
  };
  openai: { apiKey: string | undefined; baseUrl: string; model: string };
  firecrawl: { apiKey: string | undefined; apiUrl: string };
  /** OpenAI pacing and retry policy (the limiter is shared by the whole process). */
  openaiLimits: { rpm: number; tpm: number; maxRetries: number; retryBaseMs: number; timeoutMs: number; maxOutputTokens: number };
  firecrawlPolicy: { timeoutMs: number; maxRetries: number; retryBaseMs: number };
  compose: { concurrency: number; maxTextChars: number };
  /** Company websites: cache TTL, size cap, and the SSRF guard's allowed ports and static DNS answers. */
  website: { cacheTtlHours: number; maxChars: number; allowedPorts: number[]; dnsOverrides: Record<string, string[]> };
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; a wrong value throws a ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if ((e.SUPABASE_URL === undefined) !== (e.SUPABASE_SERVICE_ROLE_KEY === undefined)) {
    throw new ConfigError(
      'Invalid configuration:\n  SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set together',
    );
  }
  if (!isIanaZone(e.COROFY_DEFAULT_TIMEZONE)) {
    throw new ConfigError(
      `Invalid configuration:\n  COROFY_DEFAULT_TIMEZONE: "${e.COROFY_DEFAULT_TIMEZONE}" is not an IANA time zone`,
    );
  }
  const baseDir = e.INIT_CWD ?? process.cwd();
  const dataDir = path.resolve(baseDir, e.COROFY_DATA_DIR);

  let database: DatabaseTarget;
  if (e.DATABASE_URL) {
    database = {
      kind: 'postgres',
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS,
    };
  } else if (e.SUPABASE_URL && e.SUPABASE_SERVICE_ROLE_KEY) {
    database = { kind: 'supabase', url: e.SUPABASE_URL, serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY };
  } else {
    database = { kind: 'pglite', dataDir };
  }
  if (database.kind !== 'pglite' && !e.COROFY_API_KEY) {
    throw new ConfigError(
      'Invalid configuration:\n  COROFY_API_KEY is required with DATABASE_URL or SUPABASE_URL ' +
        '(only the embedded default generates one)',
    );
  }
  if (database.kind !== 'pglite' && !e.COROFY_SECRET_KEY) {
    throw new ConfigError(
      'Invalid configuration:\n  COROFY_SECRET_KEY is required with DATABASE_URL or SUPABASE_URL: it encrypts the ' +
        'mailbox passwords and tokens at rest (at least 32 characters, e.g. `openssl rand -base64 32`; keep it safe)',
    );
  }

  return {
    port: e.PORT,
    host: e.HOST,
    apiKey: e.COROFY_API_KEY,
    dataDir,
    publicUrl: e.COROFY_PUBLIC_URL,
    bodyLimitBytes: e.COROFY_BODY_LIMIT_BYTES,
    importBodyLimitBytes: e.COROFY_IMPORT_BODY_LIMIT_BYTES,
    inboundBodyLimitBytes: e.COROFY_INBOUND_BODY_LIMIT_BYTES,
    imap: {
      scanIntervalMs: e.COROFY_IMAP_SCAN_INTERVAL_MS,
      pollSeconds: e.COROFY_IMAP_POLL_SECONDS,
      leaseSeconds: e.COROFY_IMAP_LEASE_SECONDS,
    },
    webhooks: {
      intervalMs: e.COROFY_WEBHOOK_INTERVAL_MS,
      maxAttempts: e.COROFY_WEBHOOK_MAX_ATTEMPTS,
      backoffSeconds: e.COROFY_WEBHOOK_BACKOFF_SECONDS,
      timeoutMs: e.COROFY_WEBHOOK_TIMEOUT_MS,
    },
    defaultTimezone: e.COROFY_DEFAULT_TIMEZONE,
    sandbox: e.COROFY_SANDBOX,
    clock: new Clock(e.COROFY_SANDBOX),
    autoMigrate: e.COROFY_AUTO_MIGRATE,
    sweepIntervalMs: e.COROFY_SWEEP_INTERVAL_MS,
    retentionDays: e.COROFY_RETENTION_DAYS,
    claimLeaseSeconds: e.COROFY_CLAIM_LEASE_SECONDS,
    sendLeaseSeconds: e.COROFY_SEND_LEASE_SECONDS,
    sendMaxAttempts: e.COROFY_SEND_MAX_ATTEMPTS,
    retryBackoffSeconds: e.COROFY_RETRY_BACKOFF_SECONDS,
    unsubscribeSecret: e.COROFY_UNSUBSCRIBE_SECRET,
    dispatch: {
      intervalMs: e.COROFY_DISPATCH_INTERVAL_MS,
      mailboxLeaseSeconds: e.COROFY_MAILBOX_LEASE_SECONDS,
      smtpRatePerSecond: e.COROFY_SMTP_RATE_PER_SECOND,
      smtpTimeoutMs: e.COROFY_SMTP_TIMEOUT_MS,
      maxMessagesPerConnection: e.COROFY_SMTP_MAX_MESSAGES_PER_CONNECTION,
    },
    secretKey: e.COROFY_SECRET_KEY,
    previousSecretKey: e.COROFY_SECRET_KEY_PREVIOUS,
    database,
    apollo: {
      apiKey: e.APOLLO_API_KEY,
      baseUrl: e.APOLLO_BASE_URL,
      maxRetries: e.APOLLO_MAX_RETRIES,
      retryBaseMs: e.APOLLO_RETRY_BASE_MS,
      maxRetryAfterS: e.APOLLO_MAX_RETRY_AFTER_S,
      timeoutMs: e.APOLLO_TIMEOUT_MS,
    },
    openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL, model: e.OPENAI_MODEL },
    firecrawl: { apiKey: e.FIRECRAWL_API_KEY, apiUrl: e.FIRECRAWL_API_URL },
    openaiLimits: {
      rpm: e.OPENAI_RPM,
      tpm: e.OPENAI_TPM,
      maxRetries: e.OPENAI_MAX_RETRIES,
      retryBaseMs: e.OPENAI_RETRY_BASE_MS,
      timeoutMs: e.OPENAI_TIMEOUT_MS,
      maxOutputTokens: e.OPENAI_MAX_OUTPUT_TOKENS,
    },
    firecrawlPolicy: {
      timeoutMs: e.FIRECRAWL_TIMEOUT_MS,
      maxRetries: e.FIRECRAWL_MAX_RETRIES,
      retryBaseMs: e.FIRECRAWL_RETRY_BASE_MS,
    },
    compose: { concurrency: e.COMPOSE_CONCURRENCY, maxTextChars: e.COMPOSE_MAX_TEXT_CHARS },
    website: {
      cacheTtlHours: e.COROFY_WEBSITE_CACHE_TTL_HOURS,
      maxChars: e.COROFY_WEBSITE_MAX_CHARS,
      allowedPorts: parsePorts(e.COROFY_WEBSITE_PORTS),
      dnsOverrides: parseDnsOverrides(e.COROFY_DNS_OVERRIDES),
    },
    logLevel: e.LOG_LEVEL,
  };
}

function parsePorts(value: string): number[] {
  const ports = value.split(',').map((p) => Number(p.trim()));
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new ConfigError(`Invalid configuration:\n  COROFY_WEBSITE_PORTS: "${value}" must be a comma-separated list of ports`);
  }
  return ports;
}

/** "acme.example=93.184.216.34,b.example=2606:2800::1" → static DNS answers (checked like real ones). */
function parseDnsOverrides(value: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const entry of (value ?? '').split(',').map((v) => v.trim()).filter(Boolean)) {
    const m = /^([a-z0-9.-]+)=([0-9a-f.:]+)$/i.exec(entry);
    if (!m) {
      throw new ConfigError(`Invalid configuration:\n  COROFY_DNS_OVERRIDES: "${entry}" must look like host=ip`);
    }
    (out[m[1]!.toLowerCase()] ??= []).push(m[2]!.toLowerCase());
  }
  return out;
}

