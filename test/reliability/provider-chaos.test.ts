// Provider chaos: Apollo, OpenAI and Firecrawl answer random 429s, 5xx,
// timeouts and resets (a seeded chaos proxy in front of each fake) while
// searches and compose run. Every answer is a success or a named problem (no
// 500), every lead of a batch ends in a named state, and the Apollo credits the
// service reports equal what Apollo charged.
import { startFakeApollo, type FakeApollo } from '../../sandbox/fake-apollo';
import { startFakeFirecrawl, type FakeFirecrawl } from '../../sandbox/fake-firecrawl';
import { startFakeOpenAI, type FakeOpenAI } from '../../sandbox/fake-openai';
import { rawSql } from '../../service/test/support/sends-fixture';
import { startTestService, type TestService } from '../../service/test/support/test-service';
import { startChaosProxy, type ChaosProxy } from './chaos-proxy';
import { recordFigures } from './figures';

const FAULT_RATE = Number(process.env.CHAOS_RATE ?? 0.3);
const SEED = Number(process.env.CHAOS_SEED ?? 20261203);

let apollo: FakeApollo;
let openai: FakeOpenAI;
let firecrawl: FakeFirecrawl;
let proxies: ChaosProxy[] = [];
let svc: TestService;
beforeAll(async () => {
  apollo = await startFakeApollo({ seed: 9, people: 3000, credits: 1_000_000 });
  openai = await startFakeOpenAI({ rpm: 100_000 });
  firecrawl = await startFakeFirecrawl({});
  proxies = await Promise.all([
    startChaosProxy(apollo.url, { seed: SEED, rate: FAULT_RATE }),
    startChaosProxy(openai.url, { seed: SEED + 1, rate: FAULT_RATE }),
    startChaosProxy(firecrawl.url, { seed: SEED + 2, rate: FAULT_RATE }),
  ]);
  svc = await startTestService({
    APOLLO_API_KEY: 'fake-apollo-key',
    APOLLO_BASE_URL: proxies[0]!.url,
    APOLLO_RETRY_BASE_MS: '5',
    APOLLO_MAX_RETRY_AFTER_S: '1',
    APOLLO_TIMEOUT_MS: '1000',
    OPENAI_API_KEY: 'fake-openai-key',
    OPENAI_BASE_URL: `${proxies[1]!.url}/v1`,
    OPENAI_RETRY_BASE_MS: '5',
    OPENAI_TIMEOUT_MS: '1000',
    FIRECRAWL_API_KEY: 'fake-firecrawl-key',
    FIRECRAWL_API_URL: proxies[2]!.url,
    FIRECRAWL_RETRY_BASE_MS: '5',
    FIRECRAWL_TIMEOUT_MS: '1000',
  });
  // compose refuses a sender without a name and a postal address (sender_incomplete)
  await svc.api('PUT', '/v1/senders/default', { fromName: 'Jane Seller', postalAddress: '1 Harbour Road, Rotterdam, NL' });
}, 120_000);
afterAll(async () => {
  await svc?.stop();
  await Promise.all(proxies.map((p) => p.close()));
  await Promise.all([apollo?.close(), openai?.close(), firecrawl?.close()]);
});

const NAMED = /^[a-z][a-z0-9_]+$/;

test('searches and compose under random 429, 5xx, timeouts and resets: named outcomes only, exact credits', async () => {
  const outcomes: Record<string, number> = {};
  const unnamed: string[] = [];
  const note = (what: string, r: { status: number; body: any }) => {
    const key = r.status < 300 ? `${what} ${r.status}` : `${what} ${r.status} ${r.body?.code}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (r.status === 500 || (r.status >= 300 && !NAMED.test(r.body?.code ?? ''))) unnamed.push(`${key} ${JSON.stringify(r.body).slice(0, 200)}`);
  };

  // searches, three at a time
  let leadsAdded = 0;
  for (let round = 0; round < 4; round++) {
    const answers = await Promise.all(
      [0, 1, 2].map(() => svc.api('POST', '/v1/searches', { leadsWanted: 15, filters: { personTitles: ['ceo', 'cto', 'owner'] } })),
    );
    for (const a of answers) {
      note('search', a);
      if (a.status === 201) leadsAdded += a.body.leadsAdded;
    }
  }

  // compose what the searches brought, in claimed batches
  const composeOutcome: Record<string, number> = {};
  const unaccounted: string[] = [];
  for (let round = 0; round < 6; round++) {
    const batch = await svc.api('POST', '/v1/batches/claim', { size: 8 });
    note('claim', batch);
    const ids: string[] = batch.body.leads?.map((l: { id: string }) => l.id) ?? [];
    if (ids.length === 0) break;
    const composed = await svc.api('POST', '/v1/compose', { leadIds: ids });
    note('compose', composed);
    if (composed.status === 200) {
      const emailed = new Set(composed.body.emails.map((e: { leadId: string }) => e.leadId));
      const failed = new Map(composed.body.failed.map((f: { leadId: string; code: string }) => [f.leadId, f.code]));
      for (const id of ids) {
        const state = emailed.has(id) ? 'composed' : (failed.get(id) as string | undefined);
        if (!state || !NAMED.test(state)) unaccounted.push(id);
        else composeOutcome[state] = (composeOutcome[state] ?? 0) + 1;
      }
    }
  }

  // every lead is in a state of the lifecycle; the credits reported are the credits charged
  const sql = rawSql(svc);
  const states = await sql(`select status, count(*)::int as n from leads group by 1 order by 1`);
  const recorded = await sql(`select coalesce(sum(credits_used), 0)::int as n from apollo_searches`);
  const stats = await svc.api('GET', '/v1/stats');
  const stuck = await sql(`select count(*)::int as n from apollo_searches where status = 'running'`);

  recordFigures('provider-chaos', {
    faultRate: FAULT_RATE,
    seed: SEED,
    faultsInjected: Object.fromEntries(['apollo', 'openai', 'firecrawl'].map((p, i) => [p, proxies[i]!.faults])),
    forwarded: Object.fromEntries(['apollo', 'openai', 'firecrawl'].map((p, i) => [p, proxies[i]!.forwarded])),
    outcomes,
    leadsAdded,
    composeOutcome,
    leadStates: Object.fromEntries(states.map((s) => [s.status, s.n])),
    apolloCreditsCharged: apollo.state.creditsUsed,
    apolloCreditsRecorded: recorded[0].n,
  });

  expect(unnamed).toEqual([]);
  expect(unaccounted).toEqual([]);
  expect(stuck[0].n).toBe(0);
  expect(recorded[0].n).toBe(apollo.state.creditsUsed);
  expect(stats.body.apolloCreditsUsed).toBe(apollo.state.creditsUsed);
  // chaos happened, and work still got done through it
  expect(Object.values(proxies[0]!.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(Object.values(proxies[1]!.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(leadsAdded).toBeGreaterThan(0);
  expect(composeOutcome.composed ?? 0).toBeGreaterThan(0);
});
