// The client and the lead mapping against the fake's wire format, without the service.
import { startFakeApollo, type FakeApollo } from '../../../sandbox/fake-apollo';
import { ApolloClient, ApolloError, classifyApolloFailure, parseRetryAfter } from '../../src/apollo/apollo-client';
import { leadFromMatch } from '../../src/apollo/apollo-search';

let fake: FakeApollo;
let legacy: FakeApollo;
beforeAll(async () => {
  fake = await startFakeApollo({ seed: 11, people: 300 });
  legacy = await startFakeApollo({ seed: 11, people: 300, legacyPagination: true });
});
afterAll(async () => {
  await fake?.close();
  await legacy?.close();
});

const client = (f: FakeApollo, apiKey = f.state.apiKey) =>
  new ApolloClient({ apiKey, baseUrl: f.url, maxRetries: 1, retryBaseMs: 1, maxRetryAfterS: 60, timeoutMs: 2000 });

test('the search reads total_entries at the top level or, from the retired endpoint, in pagination', async () => {
  const a = await client(fake).searchPeople({}, 2, 7);
  const b = await client(legacy).searchPeople({}, 2, 7);
  expect(a.totalEntries).toBe(300);
  expect(b.totalEntries).toBe(300);
  expect(a.people.map((p) => p.id)).toEqual(fake.state.people.slice(7, 14).map((p) => p.id));
  expect(b.people).toEqual(a.people);
  expect(a.people[0]).not.toHaveProperty('email');
});

test('bulk_match answers in request order, null for unknown ids, and charges per revealed email', async () => {
  const people = fake.state.people.slice(0, 9);
  const before = fake.state.creditsUsed;
  const ids = [...people.map((p) => p.id), 'ffffffffffffffffffffffff'];
  const r = await client(fake).bulkMatch(ids);
  expect(r.matches.map((m) => m?.id ?? null)).toEqual([...people.map((p) => p.id), null]);
  const revealed = people.filter((p) => p.email && !p.revealFails).length;
  expect(r.creditsConsumed).toBe(revealed);
  expect(fake.state.creditsUsed - before).toBe(revealed);
  expect(r.matches.filter((m) => m?.email).length).toBe(revealed);
  await expect(client(fake).bulkMatch(fake.state.people.slice(0, 11).map((p) => p.id))).rejects.toThrow(RangeError);
});

test('a wrong key is an error, never an empty page', async () => {
  await expect(client(fake, 'wrong').searchPeople({}, 1, 10)).rejects.toMatchObject({
    code: 'apollo_unauthorized',
    status: 502,
    apolloStatus: 401,
  });
});

test('out of credits is recognised in every shape integrators report', () => {
  const credits = 'Insufficient credits. Please upgrade your plan.';
  for (const status of [402, 403, 422]) {
    expect(classifyApolloFailure(status, credits, undefined, '/x')).toMatchObject({ code: 'apollo_insufficient_credits', status: 402 });
  }
  expect(classifyApolloFailure(402, '', undefined, '/x').code).toBe('apollo_insufficient_credits');
  expect(classifyApolloFailure(403, 'not accessible', 'API_INACCESSIBLE', '/x').code).toBe('apollo_forbidden');
  expect(classifyApolloFailure(422, 'bad filter', undefined, '/x').code).toBe('apollo_invalid_request');
  expect(classifyApolloFailure(404, 'Not Found', undefined, '/x')).toBeInstanceOf(ApolloError);
  expect(classifyApolloFailure(404, 'Not Found', undefined, '/x').code).toBe('apollo_unavailable');
});

test('retry-after in seconds or as an HTTP date', () => {
  expect(parseRetryAfter('3')).toBe(3000);
  expect(parseRetryAfter(null)).toBeUndefined();
  expect(parseRetryAfter('soon')).toBeUndefined();
  const inTen = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())!;
  expect(inTen).toBeGreaterThan(8000);
  expect(inTen).toBeLessThanOrEqual(10_000);
});

test('a revealed person becomes a lead: country to ISO, unknown country left out, no email → no lead', () => {
  const base = { id: 'a1', email: 'Kevin.Forrester@Apex.de', firstName: 'Kevin', organization: { primaryDomain: 'www.apex.de', websiteUrl: 'http://www.apex.de' } };
  expect(leadFromMatch({ ...base, country: 'Germany', state: 'Bavaria', city: 'Munich' })).toMatchObject({
    apolloId: 'a1',
    email: 'Kevin.Forrester@Apex.de',
    country: 'DE',
    state: 'Bavaria',
    city: 'Munich',
    companyDomain: 'apex.de',
  });
  expect(leadFromMatch({ ...base, country: 'United States' })!.country).toBe('US');
  const atlantis = leadFromMatch({ ...base, country: 'Atlantis', city: 'Poseidonia' })!;
  expect(atlantis).not.toHaveProperty('country');
  expect(atlantis.city).toBe('Poseidonia');
  expect(leadFromMatch({ ...base, linkedinUrl: 'not a url' })).not.toHaveProperty('linkedinUrl');
  expect(leadFromMatch({ ...base, email: undefined })).toBeUndefined();
  expect(leadFromMatch({ ...base, email: 'not-an-email' })).toBeUndefined();
});

test("Apollo's own minute limit: a 429 whose wait is over the cap becomes apollo_rate_limited at once", async () => {
  const limited = await startFakeApollo({ seed: 3, people: 50, perMinute: { search: 1 }, retryAfterOnLimit: false });
  try {
    const c = new ApolloClient({ apiKey: limited.state.apiKey, baseUrl: limited.url, maxRetries: 3, retryBaseMs: 1, maxRetryAfterS: 0, timeoutMs: 2000 });
    // The fake's windows are clock minutes: keep both calls inside one of them.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 50));
    await c.searchPeople({}, 1, 5);
    const err = await c.searchPeople({}, 2, 5).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'apollo_rate_limited', status: 429 });
    // No retry-after, but x-minute-requests-left: 0 → the wait lasts until the next minute window.
    expect((err as ApolloError).retryAfter).toBeGreaterThanOrEqual(1);
    expect((err as ApolloError).retryAfter).toBeLessThanOrEqual(60);
    const answers = limited.state.requests.map((r) => r.status);
    expect(answers).toEqual([200, 429]);
  } finally {
    await limited.close();
  }
});

test('the fake reports its limits with Apollo\'s headers', async () => {
  const res = await fetch(`${fake.url}/api/v1/mixed_people/api_search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': fake.state.apiKey },
    body: JSON.stringify({ page: 1, per_page: 200 }),
  });
  expect(res.status).toBe(200);
  expect(Number(res.headers.get('x-rate-limit-minute'))).toBeGreaterThan(0);
  expect(res.headers.get('x-minute-requests-left')).toMatch(/^\d+$/);
  const body = await res.json();
  expect(body.people).toHaveLength(100); // per_page 200 silently answers 100
  expect(body.total_entries).toBe(300);
});
