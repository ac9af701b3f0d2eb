// Daily-batch claim benchmark on real Postgres: a 400-lead claim over HTTP
// (p50/p95) at 10k, 100k and 1M leads, the bare SQL claim for comparison, and
// 32 concurrent callers claiming 10 at a time against 1M leads; at the largest
// size a pool claim of 400 leads over 20 mailboxes (5 of them ramped); for two
// kinds of lead table (see PROFILES). The service runs as its own process. Prints one
// JSON object.
//   node --import tsx bench/claim.ts
// BENCH_DATABASE_URL (default the local server) must allow CREATE DATABASE;
// BENCH_SIZES=10000,100000,1000000, BENCH_PROFILES=minimal,realistic,
// BENCH_CALLERS=32 and BENCH_POOL_SIZE=10 (the service's DATABASE_POOL_SIZE,
// its default) change the run.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../service/test/support/network';

const ROOT = path.resolve(__dirname, '..');
const KEY = 'bench-api-key-0123456789abcdef';
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const CALLERS = Number(process.env.BENCH_CALLERS ?? 32);
const CLAIMS_PER_CALLER = Number(process.env.BENCH_CLAIMS_PER_CALLER ?? 100);
const LATENCY_SAMPLES = 25;
// BENCH_FOLLOW_UPS=0 leaves out the claims that mix due follow-ups and new leads
const FOLLOW_UPS = process.env.BENCH_FOLLOW_UPS !== '0';

// Two kinds of lead table: the (three fields, no suppression list) and
// a working system's (the dozen fields Apollo hands over, 11,000 suppressions
// every claimed address is checked against: a 400-lead answer is 2.3x larger).
const PROFILES = [
  {
    name: 'minimal',
    describe: 'email, first name and company; no suppressions',
    suppressions: false,
    insertLeads: `insert into leads (email, first_name, company_name)
                  select 'person' || g || '@company' || (g % 5000) || '.test', 'P' || g, 'Company ' || (g % 5000)
                    from generate_series(1, $1::int) g`,
  },
  {
    name: 'realistic',
    describe: 'a dozen fields and an Apollo id per lead; 11,000 suppressions',
    suppressions: true,
    insertLeads: `insert into leads (email, first_name, last_name, title, company_name, company_domain, website,
                                     industry, country, state, city, timezone, linkedin_url, apollo_id)
                  select 'person' || g || '@company' || (g % 5000) || '.test', 'First' || g, 'Last' || g,
                         'Head of Procurement', 'Company ' || (g % 5000), 'company' || (g % 5000) || '.test',
                         'https://company' || (g % 5000) || '.test', 'Industrial Machinery', 'US', 'Ohio', 'Columbus',
                         'America/New_York', 'https://www.linkedin.com/in/person-' || g, md5(g::text)
                    from generate_series(1, $1::int) g`,
  },
].filter((p) => (process.env.BENCH_PROFILES ?? 'minimal,realistic').split(',').includes(p.name));

async function startService(databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'service/src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '10',
      COROFY_API_KEY: KEY,
      COROFY_SECRET_KEY: `${KEY}-bench-secret-key-0123456789`,
      COROFY_SWEEP_INTERVAL_MS: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return { child, url };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The load generator shares the machine's two cores with the service and
// Postgres, so it is kept lean: node:http on kept-alive connections (fetch
// spent more CPU per request than the service itself).
const agent = new http.Agent({ keepAlive: true, maxSockets: CALLERS });

function claim(url: string, body: unknown, route = '/v1/batches/claim', method = 'POST'): Promise<{ ms: number; leads: number }> {
  const t0 = performance.now();
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${route}`,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { leads?: unknown[] };
          const ms = performance.now() - t0;
          if (res.statusCode !== 200) reject(new Error(`claim failed: ${res.statusCode} ${JSON.stringify(json)}`));
          else resolve({ ms, leads: json.leads?.length ?? 0 });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};

/**
 * 400-lead claims that mix due follow-ups and new leads, on a database of as
 * many leads as sends: of `size` leads, 90% got step 1 (sent), the first 10%
 * step 2 as well (so `size` sends in all), 10% wait for their step 2 and 10%
 * (plus the 10% on step 2) for step 3, most not due yet; the last 10% are new.
 * Each measured claim is a sender with 200 follow-ups due today: it takes those
 * first, then 200 new leads.
 */
async function mixedClaims(db: pg.Client, url: string, size: number): Promise<Record<string, unknown>> {
  const tenth = Math.floor(size / 10);
  const samples = Math.min(LATENCY_SAMPLES, Math.floor(tenth / 2 / 200));
  await db.query(`insert into senders (id, daily_quota) values ('bench-bulk', 100000) on conflict (id) do nothing`);
  for (let i = 0; i < samples; i++) {
    await db.query(`insert into senders (id, daily_quota) values ($1, 100000) on conflict (id) do nothing`, [`bench-mixed-${i}`]);
  }
  // the leads that got step 1 (and some step 2) are no longer new: out of the queue, status sent
  await db.query(`delete from lead_queue where lead_id <= $1`, [9 * tenth]);
  await db.query(`update leads set status = 'sent', step = case when id <= $2 then 2 else 1 end where id <= $1`, [9 * tenth, tenth]);
  const day = "(now() - interval '10 days')";
  await db.query(`alter table sends disable trigger followup_on_sent`); // bulk rows: followups are written below
  await db.query(
    `insert into sends (lead_id, step, sender_id, day, status, to_email, subject, text, html, timezone, timezone_source,
                        send_at, window_end, message_id, sent_at)
     select l.id, s.step, 'bench-bulk', ${day}::date, 'sent', l.email, 'Hello', 'Hi there', '<p>Hi there</p>', 'UTC', 'default',
            ${day}, ${day}, l.id || '.' || s.step || '@bench.test', ${day}
       from leads l cross join lateral (select 1 as step union all select 2 where l.id <= $2) s
      where l.id <= $1`,
    [9 * tenth, tenth],
  );
  await db.query(`alter table sends enable trigger followup_on_sent`);
  // waiting follow-ups: step 3 of the first tenth, step 2 of the second, most due in the weeks ahead;
  // 200 per measured sender due today (taken from the second tenth's front)
  await db.query(
    `insert into followups (lead_id, sender_id, step, due_at)
     select id, 'bench-bulk', case when id <= $1 then 3 else 2 end, now() + make_interval(days => 1 + (id % 20)::int)
       from leads where id <= 2 * $1`,
    [tenth],
  );
  for (let i = 0; i < samples; i++) {
    const from = tenth + 1 + i * 200;
    await db.query(`update followups set sender_id = $1, due_at = now() - interval '1 hour' where lead_id between $2 and $3`, [
      `bench-mixed-${i}`, from, from + 199,
    ]);
  }
  await db.query('vacuum analyze leads');
  await db.query('vacuum analyze lead_queue');
  await db.query('vacuum analyze sends');
  await db.query('vacuum analyze followups');
  const sends = (await db.query('select count(*)::int as n from sends')).rows[0].n as number;

  const http: number[] = [];
  let followUpsTaken = 0;
  for (let i = 0; i < samples; i++) {
    const r = await claim(url, { sender: `bench-mixed-${i}`, size: 400 });
    if (r.leads !== 400) throw new Error(`expected 400 leads, got ${r.leads}`);
    http.push(r.ms);
  }
  followUpsTaken = (await db.query(`select count(*)::int as n from leads where step > 1 and status = 'claimed'`)).rows[0].n;
  return {
    leads: size,
    sends,
    followUpsPerClaim: followUpsTaken / samples,
    newLeadsPerClaim: 400 - followUpsTaken / samples,
    http400: { p50Ms: pct(http, 50), p95Ms: pct(http, 95), samples: http.length },
  };
}

async function main(): Promise<void> {
  const loadAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
  const name = `corofy_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let service: { child: ChildProcess; url: string } | undefined;
  const db = new pg.Client({ connectionString: url.toString() });
  try {
    service = await startService(url.toString());
    await db.connect();
    const profiles = [];
    for (const profile of PROFILES) {
      await db.query('truncate suppressions');
      if (profile.suppressions) {
        // a working system has a suppression list: every claimed address is checked against it
        await db.query(`insert into suppressions (value, kind, reason)
                        select 'former' || g || '@elsewhere' || (g % 500) || '.test', 'email', 'bench' from generate_series(1, 10000) g
                        union all
                        select 'blocked' || g || '.test', 'domain', 'bench' from generate_series(1, 1000) g`);
      }
      const perSize: Record<string, unknown>[] = [];
      let throughput: Record<string, unknown> | undefined;
      for (const size of SIZES) {
        await db.query('truncate leads, batches, sender_days, sends, drafts, events restart identity cascade');
        await db.query(profile.insertLeads, [size]);
        await db.query('vacuum analyze leads');
        await db.query('vacuum analyze lead_queue');
        // one sender per measurement, each with the largest quota a sender may have
        for (const s of ['bench-warm', 'bench-http', 'bench-sql', 'bench-many']) {
          await db.query(`insert into senders (id, daily_quota) values ($1, 100000)
                          on conflict (id) do update set daily_quota = 100000`, [s]);
        }

        const samples = Math.min(LATENCY_SAMPLES, Math.floor(size / 2 / 400));
        // warm-up: the service's JIT and each pooled connection's cached plans
        for (let i = 0; i < 20; i++) await claim(service.url, { sender: 'bench-warm', size: 1 });
        const http: number[] = [];
        for (let i = 0; i < samples; i++) {
          const r = await claim(service.url, { sender: 'bench-http', size: 400 });
          if (r.leads !== 400) throw new Error(`expected 400 leads, got ${r.leads}`);
          http.push(r.ms);
        }
        const sql: number[] = [];
        for (let i = 0; i < Math.min(samples, Math.floor(size / 2 / 400) - samples - 1); i++) {
          const t0 = performance.now();
          await db.query("select claim_batch('bench-sql', 400) as r");
          sql.push(performance.now() - t0);
        }
        perSize.push({
          leads: size,
          http400: { p50Ms: pct(http, 50), p95Ms: pct(http, 95), samples: http.length },
          sql400: sql.length > 0 ? { p50Ms: pct(sql, 50), p95Ms: pct(sql, 95), samples: sql.length } : null,
        });

        if (size === Math.max(...SIZES)) {
          // a pool of 20 mailboxes (5 ramped) and a target it never reaches: every claim spreads 400 leads
          const members = Array.from({ length: 20 }, (_, i) => `bench-pool-${String(i + 1).padStart(2, '0')}`);
          for (const [i, m] of members.entries()) {
            await claim(service.url, {
              dailyQuota: 100000,
              ...(i < 5 ? { rampUp: { start: 1000, step: 100, cap: 100000 } } : { rampUp: null }),
            }, `/v1/senders/${m}`, 'PUT');
          }
          await claim(service.url, { dailyTarget: 1_000_000, members }, '/v1/pools/bench-pool', 'PUT');
          for (let i = 0; i < 5; i++) await claim(service.url, { size: 20 }, '/v1/pools/bench-pool/claim');
          const poolMs: number[] = [];
          for (let i = 0; i < samples; i++) {
            const r = await claim(service.url, { size: 400 }, '/v1/pools/bench-pool/claim');
            if (r.leads !== 400) throw new Error(`expected 400 leads from the pool, got ${r.leads}`);
            poolMs.push(r.ms);
          }
          perSize[perSize.length - 1]!.poolHttp400 = {
            mailboxes: members.length,
            p50Ms: pct(poolMs, 50),
            p95Ms: pct(poolMs, 95),
            samples: poolMs.length,
          };

          const latencies: number[] = [];
          const t0 = performance.now();
          await Promise.all(
            Array.from({ length: CALLERS }, async () => {
              for (let i = 0; i < CLAIMS_PER_CALLER; i++) {
                const r = await claim(service!.url, { sender: 'bench-many', size: 10 });
                if (r.leads !== 10) throw new Error(`expected 10 leads, got ${r.leads}`);
                latencies.push(r.ms);
              }
            }),
          );
          const seconds = (performance.now() - t0) / 1000;
          // claims that went to the database together (one claim time per call)
          const calls = await db.query(
            "select count(distinct created_at)::int as n from batches where sender_id = 'bench-many'",
          );
          const dupes = await db.query(
            'select count(*)::int as n from (select l from batches b, unnest(b.lead_ids) l group by l having count(*) > 1) t',
          );
          // the same load as bare SQL (32 connections, no HTTP), for comparison on this machine
          for (const s of ['bench-many-sql']) {
            await db.query(`insert into senders (id, daily_quota) values ($1, 100000) on conflict (id) do nothing`, [s]);
          }
          const clients = await Promise.all(
            Array.from({ length: CALLERS }, async () => {
              const c = new pg.Client({ connectionString: url.toString() });
              await c.connect();
              return c;
            }),
          );
          const s0 = performance.now();
          await Promise.all(
            clients.map(async (c) => {
              for (let i = 0; i < CLAIMS_PER_CALLER; i++) await c.query("select claim_batch('bench-many-sql', 10) as r");
            }),
          );
          const sqlSeconds = (performance.now() - s0) / 1000;
          await Promise.all(clients.map((c) => c.end()));
          throughput = {
            // bare SQL: claim_batch, one claim per transaction, on 32 connections
            sqlClaimsPerSecond: Math.round((CALLERS * CLAIMS_PER_CALLER) / sqlSeconds),
            claimsPerDatabaseCall: Math.round((latencies.length / calls.rows[0].n) * 10) / 10,
            leads: size,
            callers: CALLERS,
            leadsPerClaim: 10,
            claims: latencies.length,
            claimsPerSecond: Math.round(latencies.length / seconds),
            p50Ms: pct(latencies, 50),
            p99Ms: pct(latencies, 99),
            leadsInTwoBatches: dupes.rows[0].n,
          };
        }
      }
      const followUps = FOLLOW_UPS ? await mixedClaims(db, service.url, Math.max(...SIZES)) : undefined;
      profiles.push({ profile: profile.name, describe: profile.describe, perSize, throughput, followUps });
    }
    const version = (await db.query('show server_version')).rows[0].server_version as string;
    process.stdout.write(
      `${JSON.stringify({
        benchmark: 'claim',
        postgres: version,
        cpus: os.cpus().length,
        // other work on the machine skews every number: this says how busy it was
        loadAverage1m: { atStart: loadAtStart, atEnd: Math.round(os.loadavg()[0]! * 100) / 100 },
        profiles,
      })}\n`,
    );
  } finally {
    agent.destroy();
    service?.child.kill('SIGTERM');
    await db.end().catch(() => undefined);
    if (service) await new Promise((r) => (service!.child.exitCode !== null ? r(null) : service!.child.once('exit', r)));
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
