import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => svc?.stop());

test('imports leads in input order, skipping duplicates and reporting invalid ones', async () => {
  const leads = Array.from({ length: 1000 }, (_, i) => ({ email: `person${i}@example${i % 7}.com`, firstName: `P${i}` }));
  leads[10] = { email: 'PERSON3@example3.com', firstName: 'dup of 3 (case-insensitive)' };
  leads[20] = { email: 'not-an-email', firstName: 'bad' };
  leads[30] = { email: 'x@example.com', country: 'Atlantis' } as never;

  const first = await svc.api('POST', '/v1/leads/import', { leads });
  expect(first.status).toBe(200);
  expect(first.body.imported).toBe(997);
  expect(first.body.duplicates).toBe(1);
  expect(first.body.invalid.map((i: { index: number }) => i.index)).toEqual([20, 30]);

  const ids: string[] = first.body.leadIds;
  expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => a - b));
  const lead999 = await svc.api('GET', `/v1/leads/${ids.at(-1)}`);
  expect(lead999.body).toMatchObject({ email: 'person999@example5.com', firstName: 'P999', status: 'new' });

  const again = await svc.api('POST', '/v1/leads/import', { leads });
  expect(again.body).toMatchObject({ imported: 0, duplicates: 998 });
});

test('a lead with a known externalId is a duplicate even under another email; leads without one never collide', async () => {
  const first = await svc.api('POST', '/v1/leads/import', {
    leads: [
      { email: 'crm-1@example.org', externalId: 'crm-1' },
      { email: 'no-id-a@example.org' },
      { email: 'no-id-b@example.org' },
    ],
  });
  expect(first.body).toMatchObject({ imported: 3, duplicates: 0 });
  const again = await svc.api('POST', '/v1/leads/import', {
    leads: [{ email: 'renamed@example.org', externalId: 'crm-1' }, { email: 'no-id-c@example.org' }],
  });
  expect(again.body).toMatchObject({ imported: 1, duplicates: 1 });
});
