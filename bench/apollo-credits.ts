// Apollo credit efficiency: credits spent per usable lead (goal exactly 1.00)
// and pages per search, against the local fake Apollo (deterministic seed),
// through the real service and database. Prints one JSON object.
//   node --import tsx bench/apollo-credits.ts
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/apollo-credits.ts
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startFakeApollo } from '../sandbox/fake-apollo';
import { createLogger } from '../service/src/app/logger';
import { loadConfig } from '../service/src/config/env';
import { startService } from '../service/src/server';

const KEY = 'bench-api-key-0123456789abcdef';
const SEED = Number(process.env.BENCH_SEED ?? 42);

async function database(): Promise<{ env: Record<string, string>; kind: string; drop(): Promise<void> }> {
  const admin = process.env.BENCH_DATABASE_URL;
  if (!admin) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-bench-apollo-'));
    return { env: { COROFY_DATA_DIR: dir }, kind: 'pglite', drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `corofy_bench_apollo_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), COROFY_SECRET_KEY: 'bench-secret-key-0123456789abcdef0123' },
    kind: 'postgres',
    drop: async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`drop database if exists ${name} with (force)`);
      await d.end();
    },
  };
}

async function main() {
  const fake = await startFakeApollo({
    seed: SEED,
    people: 60_000,
    perMinute: { search: 100_000, match: 100_000 },
    recordRequests: false,
  });
  const db = await database();
  const svc = await startService(
    loadConfig({
      PORT: '0',
      COROFY_API_KEY: KEY,
      LOG_LEVEL: 'silent',
      COROFY_SWEEP_INTERVAL_MS: '0',
      APOLLO_API_KEY: fake.state.apiKey,
      APOLLO_BASE_URL: fake.url,
      ...db.env,
    }),
    createLogger('silent'),
  );
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${svc.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  async function search(name: string, leadsWanted: number, filters: Record<string, unknown> = {}) {
    const charged = fake.state.creditsUsed;
    const searches = fake.state.counts.search;
    const matches = fake.state.counts.match;
    const t0 = performance.now();
    const r = await api('POST', '/v1/searches', { leadsWanted, filters });
    const ms = performance.now() - t0;
    if (r.status !== 201) throw new Error(`${name}: ${r.status} ${JSON.stringify(r.body)}`);
    const b = r.body;
    return {
      name,
      leadsWanted,
      leadsAdded: b.leadsAdded,
      creditsUsed: b.creditsUsed,
      creditsChargedByApollo: fake.state.creditsUsed - charged,
      creditsPerUsableLead: b.leadsAdded ? Math.round((b.creditsUsed / b.leadsAdded) * 1000) / 1000 : null,
      pagesFetched: b.pagesFetched,
      searchCalls: fake.state.counts.search - searches,
      matchCalls: fake.state.counts.match - matches,
      matchesRequested: b.matchesRequested,
      duplicatesSkipped: b.duplicatesSkipped,
      suppressedSkipped: b.suppressedSkipped,
      noEmailSkipped: b.noEmailSkipped,
      exhausted: b.exhausted,
      ms: Math.round(ms),
    };
  }

  const runs: Awaited<ReturnType<typeof search>>[] = [];
  runs.push(await search('10 wanted', 10, { personLocations: ['Germany'] }));
  runs.push(await search('100 wanted', 100, { personLocations: ['India'] }));
  runs.push(await search('30 first (become known)', 30, { personLocations: ['Australia'] }));
  runs.push(await search('250 wanted, 30 already known', 250, { personLocations: ['Australia'] }));
  runs.push(await search('1000 wanted', 1000, { personLocations: ['United States'] }));

  // Known only after the match: emails imported from a CSV (no Apollo id) and a
  // suppressed domain. These cost credits that no lead can repay; reported, not hidden.
  const canada = fake.state.people.filter((p) => p.email && p.country === 'Canada');
  const csv = canada.filter((_, i) => i % 20 === 3).slice(0, 25).map((p) => ({ email: p.email! }));
  await api('POST', '/v1/leads/import', { leads: csv });
  await svc.deps.db.call('add_suppression', {
    p_value: canada[7]!.organization.primary_domain,
    p_kind: 'domain',
    p_reason: 'bench',
  });
  runs.push(await search('500 wanted, CSV emails and a suppressed domain known only after the match', 500, { personLocations: ['Canada'] }));

  const clean = runs.filter((r) => !r.name.includes('after the match'));
  const sum = (xs: typeof runs, k: 'creditsUsed' | 'leadsAdded') => xs.reduce((n, r) => n + r[k], 0);
  const result = {
    bench: 'apollo-credits',
    database: db.kind,
    seed: SEED,
    fakePeople: fake.state.people.length,
    creditsPerUsableLead: Math.round((sum(clean, 'creditsUsed') / sum(clean, 'leadsAdded')) * 1000) / 1000,
    creditsPerUsableLeadWithPostMatchLosses: Math.round((sum(runs, 'creditsUsed') / sum(runs, 'leadsAdded')) * 1000) / 1000,
    pagesPerSearch: Math.round((runs.reduce((n, r) => n + r.pagesFetched, 0) / runs.length) * 100) / 100,
    ourCountMatchesApollo: runs.every((r) => r.creditsUsed === r.creditsChargedByApollo),
    runs,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  await svc.close();
  await fake.close();
  await db.drop();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
