import { startApolloKit, type ApolloKit } from './apollo-kit';
import { callApi } from '../support/test-service';

let kit: ApolloKit;
beforeAll(async () => {
  kit = await startApolloKit({ apiKey: 'apollo-secret-key-do-not-leak' });
});
afterAll(async () => kit?.stop());

test('searches need the Corofy API key; Apollo is not called without it', async () => {
  const { svc, fake } = kit;
  const res = await callApi(svc.url, 'POST', '/v1/searches', { leadsWanted: 5 }, { authorization: 'Bearer wrong-key-0123456789' });
  expect(res.status).toBe(401);
  expect((await callApi(svc.url, 'GET', '/v1/searches', undefined, { authorization: '' })).status).toBe(401);
  expect(fake.state.requests).toHaveLength(0);
});

test("Apollo's key goes in x-api-key only and never comes back in an answer or a record", async () => {
  const { svc, fake } = kit;
  fake.fault({ fault: { kind: 'unauthorized' } });
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 5 });
  expect(res.status).toBe(502);
  const record = await svc.api('GET', `/v1/searches/${res.body.searchId}`);
  expect(JSON.stringify(res.body)).not.toContain('apollo-secret-key');
  expect(JSON.stringify(record.body)).not.toContain('apollo-secret-key');
  fake.clearFaults();
  const ok = await svc.api('POST', '/v1/searches', { leadsWanted: 3 });
  expect(ok.status).toBe(201);
  expect(JSON.stringify(ok.body)).not.toContain('apollo-secret-key');
  expect(fake.state.requests.every((r) => !JSON.stringify(r.body).includes('apollo-secret-key'))).toBe(true);
});

test('filters travel to Apollo as data (no injection into our SQL or theirs)', async () => {
  const { svc, fake } = kit;
  const evil = "'); drop table leads; --";
  const from = fake.state.requests.length;
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 3, filters: { personTitles: [evil], qKeywords: evil } });
  expect(res.status).toBe(201);
  expect(res.body.exhausted).toBe(true);
  expect(fake.state.requests[from]!.body).toMatchObject({ person_titles: [evil], q_keywords: evil });
  const record = await svc.api('GET', `/v1/searches/${res.body.searchId}`);
  expect(record.body.filters).toEqual({ personTitles: [evil], qKeywords: evil });
  expect((await svc.api('GET', '/v1/searches')).status).toBe(200);
});
