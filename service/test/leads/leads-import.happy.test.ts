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

test('GET /v1/leads/{id} answers every field of the contract, null when unknown', async () => {
  const imported = await svc.api('POST', '/v1/leads/import', { leads: [{ email: 'bare@fields.example' }] });
  const res = await svc.api('GET', `/v1/leads/${imported.body.leadIds[0]}`);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    id: imported.body.leadIds[0],
    email: 'bare@fields.example',
    firstName: null,
    lastName: null,
    title: null,
    companyName: null,
    companyDomain: null,
    website: null,
    industry: null,
    country: null,
    state: null,
    city: null,
    timezone: null,
    timezoneSource: null,
    linkedinUrl: null,
    externalId: null,
    apolloId: null,
    status: 'new',
    statusReason: null,
    createdAt: expect.any(String),
  });
  // the document says the same: every field required, the unknown ones nullable
  const doc = await svc.api('GET', '/openapi.json');
  const schema = doc.body.components.schemas.LeadRecord;
  expect([...schema.required].sort()).toEqual(Object.keys(res.body).sort());
  expect(doc.body.paths['/v1/leads/{id}'].get.responses['200'].content['application/json'].schema).toEqual({
    $ref: '#/components/schemas/LeadRecord',
  });
});

test('a lead has its time zone as soon as it is imported, from the most specific place it names', async () => {
  const imported = await svc.api('POST', '/v1/leads/import', {
    leads: [
      { email: 'given@zones.example', timezone: 'Asia/Kathmandu', country: 'DE' },
      { email: 'state@zones.example', country: 'US', state: 'California' },
      { email: 'city@zones.example', city: 'Osaka' },
      { email: 'country@zones.example', country: 'Germany' },
      { email: 'many-zones@zones.example', country: 'AU' },
      { email: 'nowhere@zones.example', firstName: 'No place' },
    ],
  });
  expect(imported.body.imported).toBe(6);
  const zones = [];
  for (const id of imported.body.leadIds) {
    const { timezone, timezoneSource } = (await svc.api('GET', `/v1/leads/${id}`)).body;
    zones.push([timezone, timezoneSource]);
  }
  expect(zones).toEqual([
    ['Asia/Kathmandu', 'lead'],
    ['America/Los_Angeles', 'state'],
    ['Asia/Tokyo', 'city'],
    ['Europe/Berlin', 'country'],
    ['Australia/Sydney', 'country_default'],
    // nothing names a place: the sender that gates it decides, so it is not known yet
    [null, null],
  ]);
});
