import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => svc?.stop());

test('stats answer every documented field, and the OpenAPI schema lists exactly those', async () => {
  await svc.api('PUT', '/v1/senders/default', { dailyQuota: 7 });
  await svc.api('POST', '/v1/leads/import', { leads: [1, 2, 3].map((i) => ({ email: `s${i}@example.com` })) });
  await svc.api('POST', '/v1/batches/claim', { size: 2 });

  const stats = await svc.api('GET', '/v1/stats');
  expect(stats.body).toMatchObject({ sender: 'default', quota: 7, claimed: 2, used: 2, remaining: 5, batchedLeads: 2 });
  const doc = await svc.api('GET', '/openapi.json');
  const documented = Object.keys(doc.body.components.schemas.Stats.properties).sort();
  expect(Object.keys(stats.body).sort()).toEqual(documented);
});
