// Status page benchmark on real Postgres: each panel's SQL function and the whole
// page (GET / with a session, over HTTP) with 1M leads, 1M sends (a year of them,
// a day's queue ahead, dead letters and needs_review) and 100k events. Prints one
// JSON object with p50/p95 in ms per panel and for the page.
//   node --import tsx bench/status-page.ts
// BENCH_DATABASE_URL (default the local server) must allow CREATE DATABASE;
// BENCH_LEADS=1000000, BENCH_EVENTS=100000 and BENCH_SAMPLES=40 change the run;
// BENCH_KEEP_DATABASE=1 keeps the filled database (to EXPLAIN a panel's query).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createLogger } from '../service/src/app/logger';
import { loadConfig } from '../service/src/config/env';
import { startService } from '../service/src/server';
import { STATUS_PANELS } from '../service/src/status/status-data';

const KEY = 'bench-api-key-0123456789abcdef';
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const LEADS = Number(process.env.BENCH_LEADS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 40);
const SENDERS = ['default', 'mailbox-2', 'mailbox-3', 'mailbox-4'];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! * 10) / 10;
};

/** A year of one send per lead (steps 1-3), mostly sent; 2,000 queued for the next 24 h (a 4-mailbox pool's day); some dead, needs_review, cancelled. */
const fill = (): [string, unknown[]][] => [
  [`insert into senders (id, daily_quota, from_name, postal_address)
   select s, 20000, 'Sender ' || s, '1 Main St' from unnest($1::text[]) s on conflict (id) do nothing`, [SENDERS]],
  [`insert into leads (email, first_name, company_name, status)
   select 'person' || g || '@company' || (g % 5000) || '.test', 'P' || g, 'Company ' || (g % 5000), 'sent'
     from generate_series(1, $1::int) g`, [LEADS]],
  [`insert into sends (lead_id, step, sender_id, day, status, to_email, subject, text, html, timezone, timezone_source,
                      send_at, window_end, sent_at, last_error, attempts, updated_at)
   select l.id, 1 + l.id % 3, ($1::text[])[1 + l.id % 4], (t.at at time zone 'UTC')::date, t.status, l.email,
          'Hello', 'Hi there', '<p>Hi there</p>',
          (array['America/New_York','America/Chicago','America/Los_Angeles','Europe/London','Europe/Berlin','Asia/Tokyo'])[1 + l.id % 6],
          'country', t.at, t.at + interval '8 hours', case when t.status = 'sent' then t.at end,
          case when t.status = 'dead' then '421 try again later' end, 1, t.at
     from leads l
     cross join lateral (
       select case when l.id % 500 = 0 then now() + (l.id % 1440) * interval '1 minute'
                   else now() - (l.id % 365) * interval '1 day' - (l.id % 480) * interval '1 minute' end as at,
              case when l.id % 500 = 0 then 'scheduled' when l.id % 997 = 0 then 'dead'
                   when l.id % 4999 = 0 then 'needs_review' when l.id % 211 = 0 then 'cancelled' else 'sent' end as status
     ) t`, [SENDERS]],
  [`insert into drafts (lead_id, step, subject, text, html, source, created_at)
   select lead_id, step, subject, text, html, (array['catalog','website','generic'])[1 + lead_id % 3], send_at - interval '1 hour'
     from sends`, []],
  [`insert into sender_days (sender_id, day, quota, scheduled, sent)
   select sender_id, day, 20000, count(*) filter (where status = 'scheduled'), count(*) filter (where status in ('sent', 'needs_review'))
     from sends group by 1, 2`, []],
  [`insert into events (kind, dedupe_key, lead_id, send_id, sender_id, email, subject, text, received_at)
   select (array['reply','reply','bounce','unsubscribe','reply','complaint','bounce','reply','unsubscribe','reply'])[1 + g % 10],
          'bench-' || g, s.lead_id, s.id, s.sender_id, s.to_email, 'Re: Hello',
          'Thanks for reaching out, we might be interested next quarter. Can you send more details?', s.sent_at + interval '3 hours'
     from generate_series(1, $1::int) g
     join sends s on s.id = (g * 9 + 1) and s.status = 'sent'`, [EVENTS]],
  [`insert into apollo_searches (total_leads_wanted, leads_added, credits_used, status, created_at)
   select 400, 400, 400, 'completed', now() - (g % 365) * interval '1 day' from generate_series(1, 2000) g`, []],
  // as autovacuum leaves a table at rest: statistics and the visibility map (index-only scans)
  ['vacuum (analyze)', []],
];

async function main(): Promise<void> {
  const name = `corofy_bench_status_${randomBytes(4).toString('hex')}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const config = loadConfig({ PORT: '0', DATABASE_URL: url.toString(), COROFY_API_KEY: KEY, COROFY_SECRET_KEY: 'bench-secret-key-0123456789abcdef0123', COROFY_SWEEP_INTERVAL_MS: '0', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' });
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const service = await startService(config, createLogger(config.logLevel));
  const sql = new pg.Client({ connectionString: url.toString() });
  await sql.connect();
  try {
    const filled = performance.now();
    for (const [statement, params] of fill()) await sql.query(statement, params);
    const counts = (await sql.query(`select (select count(*) from leads)::int as leads, (select count(*) from sends)::int as sends,
                                            (select count(*) from events)::int as events`)).rows[0];
    const fillSeconds = Math.round((performance.now() - filled) / 100) / 10;

    const now = () => new Date();
    const panels: Record<string, { p50: number; p95: number }> = {};
    for (const [panel, load] of Object.entries(STATUS_PANELS)) {
      const times: number[] = [];
      await load(service.deps.db, now()); // warm
      for (let i = 0; i < SAMPLES; i++) {
        const t = performance.now();
        await load(service.deps.db, now());
        times.push(performance.now() - t);
      }
      panels[panel] = { p50: pct(times, 50), p95: pct(times, 95) };
    }

    const signIn = await fetch(`${service.url}/status/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ apiKey: KEY }),
      redirect: 'manual',
    });
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const pageTimes: number[] = [];
    let bytes = 0;
    for (let i = 0; i <= SAMPLES; i++) {
      const t = performance.now();
      const res = await fetch(`${service.url}/`, { headers: { cookie } });
      const html = await res.text();
      if (res.status !== 200 || !html.includes('Mailboxes today')) throw new Error(`the page answered ${res.status}`);
      if (i > 0) pageTimes.push(performance.now() - t); // the first warms up
      bytes = html.length;
    }
    process.stdout.write(
      `${JSON.stringify({
        benchmark: 'status-page',
        database: 'postgres',
        data: { ...counts, senders: SENDERS.length, fillSeconds },
        samples: SAMPLES,
        panelsMs: panels,
        pageMs: { p50: pct(pageTimes, 50), p95: pct(pageTimes, 95), bytes },
        target: 'each page p95 <= 150 ms',
      }, null, 2)}\n`,
    );
  } finally {
    await sql.end();
    await service.close();
    if (process.env.BENCH_KEEP_DATABASE) process.stderr.write(`kept database ${name}\n`);
    else await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

void main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
