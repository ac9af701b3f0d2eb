// The dispatcher (delivery "corofy") against a local SMTP sink (smtp-server),
// on real Postgres. Prints one JSON object.
//  - throughput: BENCH_THROUGHPUT_SENDS (1000) sends all due, one mailbox, one kept
//    SMTP connection, rate cap lifted: emailsPerSecond from the first to the last
//    message the sink accepted;
//  - punctuality: BENCH_PUNCTUALITY_SENDS (2000) sends spread evenly over
//    BENCH_PUNCTUALITY_SECONDS (600), dispatcher at its defaults: earlySends (a
//    message the sink received before its send time) and how late they arrived
//    (p50, p99, max seconds).
//   node --import tsx bench/dispatch.ts
// BENCH_DATABASE_URL (default the local server) must allow CREATE DATABASE.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { createLogger } from '../service/src/app/logger';
import { loadConfig } from '../service/src/config/env';
import { startService, type RunningService } from '../service/src/server';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const THROUGHPUT_SENDS = Number(process.env.BENCH_THROUGHPUT_SENDS ?? 1000);
const PUNCTUALITY_SENDS = Number(process.env.BENCH_PUNCTUALITY_SENDS ?? 2000);
const PUNCTUALITY_SECONDS = Number(process.env.BENCH_PUNCTUALITY_SECONDS ?? 600);
const KEY = 'bench-api-key-0123456789abcdef';

interface Arrival {
  sendId: string;
  at: number;
}

async function startSink(): Promise<{ port: number; arrivals: Arrival[]; connections: () => number; close(): Promise<void> }> {
  const arrivals: Arrival[] = [];
  let connections = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_s, cb) {
      connections += 1;
      cb();
    },
    onData(stream, _session, cb) {
      let head = '';
      stream.on('data', (c: Buffer) => {
        if (head.length < 4096) head += c.toString('utf8');
      });
      stream.on('end', () => {
        const id = /^Message-ID: <(\d+)\./im.exec(head)?.[1];
        if (id) arrivals.push({ sendId: id, at: Date.now() });
        cb(null, 'OK');
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.server.address() as AddressInfo).port,
    arrivals,
    connections: () => connections,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `corofy_bench_dispatch_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: ADMIN_URL });
      await d.connect();
      await d.query(`drop database if exists ${name} with (force)`);
      await d.end();
    },
  };
}

async function start(url: string, env: Record<string, string>): Promise<RunningService> {
  const config = loadConfig({
    PORT: '0',
    DATABASE_URL: url,
    COROFY_API_KEY: KEY,
    COROFY_SECRET_KEY: 'bench-secret-key-0123456789abcdef0123',
    COROFY_PUBLIC_URL: 'https://corofy.bench.test',
    LOG_LEVEL: 'warn',
    ...env,
  });
  return startService(config, createLogger(config.logLevel));
}

async function api(svc: RunningService, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** n leads and one scheduled send each at sendAt(i) (window open for a day), with the ledger to match. */
async function scheduleSends(sql: pg.Pool, svc: RunningService, prefix: string, n: number, sendAt: (i: number) => number): Promise<void> {
  for (let start = 0; start < n; start += 5000) {
    const leads = Array.from({ length: Math.min(5000, n - start) }, (_, i) => ({ email: `${prefix}${start + i}@client.test` }));
    await api(svc, 'POST', '/v1/leads/import', { leads });
  }
  const ats = Array.from({ length: n }, (_, i) => new Date(sendAt(i)).toISOString());
  await sql.query(
    `with l as (select id, email, row_number() over (order by id) - 1 as i from leads where email like $1 || '%')
     insert into sends (lead_id, step, sender_id, day, status, to_email, subject, text, html, timezone, timezone_source, send_at, window_end)
     select l.id, 1, 'default', (($2::text[])[l.i + 1]::timestamptz at time zone 'UTC')::date, 'scheduled', l.email,
            'Quick question', 'Hello, a short note.', '<p>Hello, a short note.</p>', 'UTC', 'bench',
            ($2::text[])[l.i + 1]::timestamptz, ($2::text[])[l.i + 1]::timestamptz + interval '1 day'
       from l`,
    [prefix, ats],
  );
  await sql.query(`update leads set status = 'scheduled' where email like $1 || '%'`, [prefix]);
  await sql.query(
    `insert into sender_days (sender_id, day, quota, scheduled)
     select 'default', day, 1000000, count(*) from sends where to_email like $1 || '%' group by day
     on conflict (sender_id, day) do update set quota = 1000000, scheduled = sender_days.scheduled + excluded.scheduled`,
    [prefix],
  );
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const sink = await startSink();
  const db = await createDatabase();
  const sql = new pg.Pool({ connectionString: db.url, max: 2 });
  sql.on('error', () => undefined);
  let svc: RunningService | undefined;
  try {
    const sender = {
      fromName: 'Bench', fromEmail: 'bench@acme.test', delivery: 'corofy', timezone: 'UTC', dailyQuota: 100000,
      smtp: { host: '127.0.0.1', port: sink.port, tls: 'none', user: 'bench@acme.test' },
    };

    // 1. throughput through one kept connection
    svc = await start(db.url, { COROFY_SMTP_RATE_PER_SECOND: '1000', COROFY_SMTP_MAX_MESSAGES_PER_CONNECTION: '100000', COROFY_DISPATCH_INTERVAL_MS: '1000' });
    await api(svc, 'PUT', '/v1/senders/default', { ...sender, delivery: 'n8n' });
    await scheduleSends(sql, svc, 'burst', THROUGHPUT_SENDS, () => Date.now() - 1000);
    await api(svc, 'PUT', '/v1/senders/default', sender);
    await waitUntil(() => sink.arrivals.length >= THROUGHPUT_SENDS, 600_000);
    const burst = sink.arrivals.slice(0, THROUGHPUT_SENDS);
    const seconds = (burst.at(-1)!.at - burst[0]!.at) / 1000;
    const emailsPerSecond = round((THROUGHPUT_SENDS - 1) / seconds, 1);
    const connections = sink.connections();
    await svc.close();
    svc = undefined;

    // 2. punctuality with the dispatcher's defaults
    sink.arrivals.length = 0;
    svc = await start(db.url, {});
    const t0 = Date.now() + 5000;
    const spacing = (PUNCTUALITY_SECONDS * 1000) / PUNCTUALITY_SENDS;
    await scheduleSends(sql, svc, 'paced', PUNCTUALITY_SENDS, (i) => t0 + i * spacing);
    await waitUntil(() => sink.arrivals.length >= PUNCTUALITY_SENDS, (PUNCTUALITY_SECONDS + 300) * 1000);
    const due = new Map<string, number>(
      (await sql.query(`select id::text as id, extract(epoch from send_at) * 1000 as at from sends where to_email like 'paced%'`)).rows.map(
        (r) => [r.id, Number(r.at)],
      ),
    );
    const lateness = sink.arrivals.map((a) => (a.at - due.get(a.sendId)!) / 1000);
    const earlySends = lateness.filter((l) => l < 0).length;
    const sorted = lateness.filter((l) => l >= 0).sort((a, b) => a - b);
    const status = (await sql.query(`select status, count(*)::int as n from sends group by status order by 1`)).rows;

    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'dispatch',
          machine: { cpus: os.cpus().length, node: process.version },
          emailsPerSecond,
          throughput: { sends: THROUGHPUT_SENDS, seconds: round(seconds), smtpConnections: connections },
          earlySends,
          lateP50Seconds: round(percentile(sorted, 50)),
          lateP99Seconds: round(percentile(sorted, 99)),
          lateMaxSeconds: round(sorted.at(-1)!),
          punctuality: { sends: PUNCTUALITY_SENDS, overSeconds: PUNCTUALITY_SECONDS, received: sink.arrivals.length },
          sendsByStatus: Object.fromEntries(status.map((r) => [r.status, r.n])),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await svc?.close();
    await sql.end();
    await db.drop();
    await sink.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
