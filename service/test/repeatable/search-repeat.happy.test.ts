// An Apollo search sent twice with one idempotency key is one search, paid for
// once: answered from its record when it completed, continued for what it lacks
// when it stopped, reported busy (503 with Retry-After) while it runs.
import { startApolloKit, type ApolloKit } from '../apollo/apollo-kit';
import { stopService } from '../support/sends-fixture';
import { snapshot } from './db-snapshot';

let kit: ApolloKit;
beforeAll(async () => {
  kit = await startApolloKit({ people: 2000 });
}, 60_000);
afterAll(async () => {
  await stopService(kit?.svc);
  await kit?.fake.close();
});

const ids = (leads: { id: string }[]) => leads.map((l) => l.id);

test('a completed search sent again answers with its record and leads, pays nothing and changes nothing', async () => {
  const { svc, fake } = kit;
  const body = { leadsWanted: 12, filters: { personLocations: ['Germany'] }, idempotencyKey: 'exec-100:apollo:0' };
  const first = await svc.api('POST', '/v1/searches', body);
  expect(first.status).toBe(201);
  expect(first.body.leads).toHaveLength(12);
  const credits = fake.state.creditsUsed;
  const requests = fake.state.requests.length;
  const before = await snapshot(svc);

  const second = await svc.api('POST', '/v1/searches', body);
  expect(second.status).toBe(201);
  expect(second.body.searchId).toBe(first.body.searchId);
  expect(ids(second.body.leads)).toEqual(ids(first.body.leads));
  expect(second.body).toMatchObject({ leadsAdded: 12, creditsUsed: first.body.creditsUsed, status: 'completed' });
  expect(fake.state.creditsUsed).toBe(credits);
  expect(fake.state.requests.length).toBe(requests);
  expect(await snapshot(svc)).toEqual(before);

  // without the key (or with another) it is a new search
  const other = await svc.api('POST', '/v1/searches', { ...body, idempotencyKey: 'exec-101:apollo:0' });
  expect(other.body.searchId).not.toBe(first.body.searchId);
  expect(ids(other.body.leads).some((id: string) => ids(first.body.leads).includes(id))).toBe(false);
});

test('a search that stopped half-way, sent again, goes on for the leads it lacks: one record, credits equal leads', async () => {
  const { svc, fake } = kit;
  const body = { leadsWanted: 30, filters: {}, idempotencyKey: 'exec-200:apollo:0' };
  const creditsBefore = fake.state.creditsUsed;
  fake.state.credits = 15;
  const stopped = await svc.api('POST', '/v1/searches', body);
  fake.state.credits = 1_000_000;
  expect(stopped.status).toBe(402);
  expect(stopped.body.leadsAdded).toBeGreaterThan(0);
  expect(stopped.body.leadsAdded).toBeLessThan(30);

  const resumed = await svc.api('POST', '/v1/searches', body);
  expect(resumed.status).toBe(201);
  expect(resumed.body.searchId).toBe(stopped.body.searchId);
  expect(resumed.body).toMatchObject({ status: 'completed', leadsWanted: 30, leadsAdded: 30 });
  expect(resumed.body.leads).toHaveLength(30);
  expect(new Set(ids(resumed.body.leads)).size).toBe(30);
  expect(fake.state.creditsUsed - creditsBefore).toBe(30);
  expect(resumed.body.creditsUsed).toBe(30);

  const again = await svc.api('POST', '/v1/searches', body);
  expect(ids(again.body.leads)).toEqual(ids(resumed.body.leads));
  expect(fake.state.creditsUsed - creditsBefore).toBe(30);
});

test('a search still running under the same key is reported busy: 503 apollo_search_running with Retry-After', async () => {
  const { svc, fake } = kit;
  const body = { leadsWanted: 7, filters: {}, idempotencyKey: 'exec-300:apollo:0' };
  fake.fault({ endpoint: 'match', fault: { kind: 'slow', delayMs: 1500 }, times: 1 });
  const running = svc.api('POST', '/v1/searches', body);
  // wait until the first request's search is recorded
  for (;;) {
    const list = await svc.api('GET', '/v1/searches?limit=1');
    if (list.body.searches[0]?.leadsWanted === 7 && list.body.searches[0]?.status === 'running') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const busy = await svc.api('POST', '/v1/searches', body);
  expect(busy.status).toBe(503);
  expect(busy.body.code).toBe('apollo_search_running');
  expect(busy.headers.get('retry-after')).toBe('5');

  const first = await running;
  expect(first.status).toBe(201);
  const after = await svc.api('POST', '/v1/searches', body);
  expect(after.body.searchId).toBe(first.body.searchId);
  expect(ids(after.body.leads)).toEqual(ids(first.body.leads));
});
