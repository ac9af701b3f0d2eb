import { startTestService } from '../support/test-service';
import { searchRequests, startApolloKit, type ApolloKit } from './apollo-kit';

let kit: ApolloKit;
beforeAll(async () => {
  // generous enough for a loaded 2-core CI machine; the slow fault below is well past it
  kit = await startApolloKit({ people: 2000 }, { APOLLO_TIMEOUT_MS: '1500' });
});
afterAll(async () => kit?.stop());
beforeEach(() => kit.fake.clearFaults());

async function searchRecord(id: string) {
  return (await kit.svc.api('GET', `/v1/searches/${id}`)).body;
}

// Each variant searches its own region so earlier searches leave nothing known.
describe.each([
  [422, 'Texas', 'Bavaria'],
  [402, 'California', 'New York'],
  [403, 'Illinois', 'England'],
] as const)('credits running out half-way (answered with %i)', (status, region, otherRegion) => {
  test('402 apollo_insufficient_credits, the leads already paid for are kept, the record says what happened', async () => {
    const { svc, fake } = kit;
    fake.state.credits = 15;
    fake.state.outOfCreditsStatus = status;
    const before = fake.state.creditsUsed;
    const res = await svc.api('POST', '/v1/searches', { leadsWanted: 30, filters: { personLocations: [region] } });
    const charged = fake.state.creditsUsed - before;
    fake.state.credits = 1_000_000;
    expect(res.status).toBe(402);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('apollo_insufficient_credits');
    expect(res.body.detail).toContain('Insufficient credits');
    // The first match calls were paid for and are kept; the one past the balance was refused.
    expect(charged).toBeGreaterThan(0);
    expect(charged).toBeLessThanOrEqual(15);
    expect(res.body.creditsUsed).toBe(charged);
    expect(res.body.leadsAdded).toBe(charged);

    const record = await searchRecord(res.body.searchId);
    expect(record).toMatchObject({
      status: 'failed',
      errorCode: 'apollo_insufficient_credits',
      leadsWanted: 30,
      leadsAdded: res.body.leadsAdded,
      creditsUsed: res.body.leadsAdded,
    });
    expect(record.errorDetail).toContain('Insufficient credits');
  });

  test('also when Apollo says so with credits left', async () => {
    const { svc, fake } = kit;
    fake.fault({ endpoint: 'match', fault: { kind: 'out_of_credits', status }, after: 1 });
    const before = fake.state.creditsUsed;
    const res = await svc.api('POST', '/v1/searches', { leadsWanted: 20, filters: { personLocations: [otherRegion] } });
    const charged = fake.state.creditsUsed - before;
    expect(res.status).toBe(402);
    expect(charged).toBeGreaterThan(0);
    expect(charged).toBeLessThanOrEqual(10);
    expect(res.body).toMatchObject({ code: 'apollo_insufficient_credits', leadsAdded: charged, creditsUsed: charged });
    const record = await searchRecord(res.body.searchId);
    expect(record).toMatchObject({ status: 'failed', leadsAdded: charged, matchCalls: 1, errorCode: 'apollo_insufficient_credits' });
  });
});

test('403 API_INACCESSIBLE: apollo_forbidden with Apollo\'s message, never "0 leads"', async () => {
  const { svc, fake } = kit;
  fake.fault({ fault: { kind: 'forbidden' } });
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 10 });
  expect(res.status).toBe(403);
  expect(res.body.code).toBe('apollo_forbidden');
  expect(res.body.detail).toContain('API_INACCESSIBLE');
  expect(res.body.detail).toContain('is not accessible with this api_key on a free plan');
  expect(await searchRecord(res.body.searchId)).toMatchObject({ status: 'failed', errorCode: 'apollo_forbidden', creditsUsed: 0 });
});

test('401 from Apollo (invalid key): 502 apollo_unauthorized, not retried', async () => {
  const { svc, fake } = kit;
  fake.fault({ fault: { kind: 'unauthorized' } });
  const from = fake.state.requests.length;
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 10 });
  expect(res.status).toBe(502);
  expect(res.body.code).toBe('apollo_unauthorized');
  expect(res.body.detail).toContain('APOLLO_API_KEY');
  expect(res.body.detail).toContain('Invalid access credentials');
  expect(searchRequests(fake, from)).toHaveLength(1);
});

test('422 validation from Apollo: apollo_invalid_request with Apollo\'s message, not retried', async () => {
  const { svc, fake } = kit;
  fake.fault({ fault: { kind: 'unprocessable', message: 'person_seniorities contains an unknown value' } });
  const from = fake.state.requests.length;
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 10 });
  expect(res.status).toBe(422);
  expect(res.body.code).toBe('apollo_invalid_request');
  expect(res.body.detail).toContain('person_seniorities contains an unknown value');
  expect(searchRequests(fake, from)).toHaveLength(1);
});

test('429 with retry-after: waits as told, then succeeds', async () => {
  const { svc, fake } = kit;
  fake.fault({ endpoint: 'search', fault: { kind: 'rate_limited', retryAfter: 1 }, times: 1 });
  const from = fake.state.requests.length;
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 5, filters: { personLocations: ['Germany'] } });
  expect(res.status).toBe(201);
  expect(res.body.leadsAdded).toBe(5);
  const [limited, retried] = searchRequests(fake, from);
  expect(limited!.status).toBe(429);
  expect(retried!.status).toBe(200);
  expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(950);
});

test('429 with a retry-after over the cap: 429 apollo_rate_limited with retryAfter, no long wait', async () => {
  const { svc, fake } = kit;
  fake.fault({ endpoint: 'search', fault: { kind: 'rate_limited', retryAfter: 3600 } });
  const from = fake.state.requests.length;
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 5 });
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ code: 'apollo_rate_limited', retryAfter: 3600 });
  expect(res.headers.get('retry-after')).toBe('3600');
  expect(searchRequests(fake, from)).toHaveLength(1);
});

test('429 without retry-after, again and again: apollo_rate_limited after the retry budget', async () => {
  const { svc, fake } = kit;
  fake.fault({ endpoint: 'match', fault: { kind: 'rate_limited', retryAfter: null } });
  const from = fake.state.requests.length;
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 5, filters: { personLocations: ['Australia'] } });
  expect(res.status).toBe(429);
  expect(res.body.code).toBe('apollo_rate_limited');
  expect(res.body.retryAfter).toBeGreaterThanOrEqual(1);
  expect(fake.state.requests.slice(from).filter((r) => r.endpoint === 'match')).toHaveLength(3);
});

test('a stream of 5xx: 502 apollo_unavailable after 1 + APOLLO_MAX_RETRIES attempts', async () => {
  const { svc, fake } = kit;
  fake.fault({ endpoint: 'search', fault: { kind: 'server_error', status: 503 } });
  const from = fake.state.requests.length;
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 5 });
  expect(res.status).toBe(502);
  expect(res.body.code).toBe('apollo_unavailable');
  expect(res.body.detail).toContain('HTTP 503');
  expect(searchRequests(fake, from)).toHaveLength(3);
  expect(await searchRecord(res.body.searchId)).toMatchObject({ status: 'failed', errorCode: 'apollo_unavailable' });
});

test('a few 5xx and a slow answer are retried and the search succeeds', async () => {
  const { svc, fake } = kit;
  fake.fault({ endpoint: 'search', fault: { kind: 'server_error' }, times: 1 });
  fake.fault({ endpoint: 'match', fault: { kind: 'slow', delayMs: 4000 }, times: 1 });
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 12, filters: { personLocations: ['Canada'] } });
  expect(res.status).toBe(201);
  expect(res.body.leadsAdded).toBe(12);
});

test('bad input: 400, nothing recorded, Apollo not called', async () => {
  const { svc, fake } = kit;
  const before = (await svc.api('GET', '/v1/searches?limit=500')).body.searches.length;
  const from = fake.state.requests.length;
  for (const body of [
    { leadsWanted: 0 },
    { leadsWanted: 10_001 },
    { leadsWanted: 2.5 },
    { leadsWanted: 10, filters: { personTitle: ['typo'] } },
    { leadsWanted: 10, filters: { organizationNumEmployeesRanges: ['eleven to fifty'] } },
    { leadsWanted: 10, filters: { qOrganizationDomains: ['not a domain'] } },
    {},
  ]) {
    const res = await svc.api('POST', '/v1/searches', body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
  }
  expect(fake.state.requests.length).toBe(from);
  expect((await svc.api('GET', '/v1/searches?limit=500')).body.searches.length).toBe(before);
  expect((await svc.api('GET', '/v1/searches/not-a-uuid')).status).toBe(400);
  const missing = await svc.api('GET', '/v1/searches/00000000-0000-4000-8000-000000000000');
  expect(missing.status).toBe(404);
  expect(missing.body.code).toBe('search_not_found');
});

test('without APOLLO_API_KEY: 503 apollo_not_configured, recorded as failed', async () => {
  const svc = await startTestService();
  try {
    const res = await svc.api('POST', '/v1/searches', { leadsWanted: 10 });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('apollo_not_configured');
    expect(res.body.detail).toContain('APOLLO_API_KEY');
    expect((await svc.api('GET', `/v1/searches/${res.body.searchId}`)).body).toMatchObject({
      status: 'failed',
      errorCode: 'apollo_not_configured',
    });
  } finally {
    await svc.stop();
  }
});
