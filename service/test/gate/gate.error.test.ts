import { callApi, startTestService, type TestService } from '../support/test-service';
import { composedLeads, sql } from './gate-fixture';
import { stopService } from '../support/sends-fixture';

let svc: TestService;
let lead: string;
beforeAll(async () => {
  svc = await startTestService();
  lead = (await composedLeads(svc, [{ country: 'DE' }]))[0]!;
});
afterAll(() => stopService(svc));

async function snapshot() {
  const q = sql(svc);
  return {
    sends: await q('select count(*)::int as n from sends'),
    leads: await q('select id, status, resolved_timezone from leads order by id'),
    ledger: await q('select sender_id, day, claimed, scheduled, sent from sender_days order by 1, 2'),
  };
}

test.each([
  ['no body', undefined, 400, 'validation_failed'],
  ['malformed JSON', '{"leadIds": [', 400, 'malformed_json'],
  ['no leadIds', {}, 400, 'validation_failed'],
  ['empty leadIds', { leadIds: [] }, 400, 'validation_failed'],
  ['a lead id that is not digits', { leadIds: ['1; drop table leads'] }, 400, 'validation_failed'],
  ['a fractional numeric lead id', { leadIds: [1.5] }, 400, 'validation_failed'],
  ['a negative id', { leadIds: ['-1'] }, 400, 'validation_failed'],
  ['an id past bigint (20 digits)', { leadIds: ['99999999999999999999'] }, 400, 'validation_failed'],
  ['an id past bigint (19 digits)', { leadIds: ['9999999999999999999'] }, 400, 'validation_failed'],
  ['more than 500 leads', { leadIds: Array.from({ length: 501 }, (_, i) => String(i + 1)) }, 400, 'validation_failed'],
  ['a malformed sender id', { leadIds: ['1'], sender: 'Bad Sender' }, 400, 'validation_failed'],
  ['an unknown field', { leadIds: ['1'], now: '2026-01-01' }, 400, 'validation_failed'],
  ['an unknown sender', { leadIds: ['1'], sender: 'nobody' }, 404, 'sender_not_found'],
])('%s: a problem, nothing changes', async (_label, body, status, code) => {
  const before = await snapshot();
  const res = await svc.api('POST', '/v1/gate', body);
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code });
  expect(await snapshot()).toEqual(before);
});

test('without the API key: 401 and nothing gated', async () => {
  const res = await callApi(svc.url, 'POST', '/v1/gate', { leadIds: [lead] }, { authorization: '' });
  expect(res.status).toBe(401);
  expect((await svc.api('GET', `/v1/leads/${lead}`)).body.status).toBe('composed');
});

test('unknown, duplicate and not-composed ids are reported in skipped, never a 500', async () => {
  const imported = await svc.api('POST', '/v1/leads/import', { leads: [{ email: 'new-one@example.com' }] });
  const fresh = imported.body.leadIds[0];
  const res = await svc.api('POST', '/v1/gate', { leadIds: ['424242', fresh, fresh, '424242'] });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    delivery: 'n8n',
    sendNow: [],
    scheduled: [],
    alreadyGated: [],
    skipped: [
      { leadId: fresh, code: 'not_claimed', detail: expect.stringMatching(/was never claimed: claim it/) },
      { leadId: '424242', code: 'lead_not_found', detail: 'No lead has id 424242.' },
    ],
  });
});

test('a composed lead without a draft is skipped, not sent empty', async () => {
  const imported = await svc.api('POST', '/v1/leads/import', { leads: [{ email: 'nodraft@example.com' }] });
  const id = imported.body.leadIds[0];
  await sql(svc)("update leads set status = 'composed' where id = $1", [id]);
  const res = await svc.api('POST', '/v1/gate', { leadIds: [id] });
  expect(res.body.skipped).toEqual([{ leadId: id, code: 'no_draft', detail: `Lead ${id} has no draft; compose it first.` }]);
  expect(await sql(svc)('select count(*)::int as n from sends where lead_id = $1', [id])).toEqual([{ n: 0 }]);
});

test('a lead without an email is skipped with that reason', async () => {
  const [id] = await composedLeads(svc, [{ country: 'FR' }]);
  await sql(svc)('update leads set email = null where id = $1', [id]);
  const res = await svc.api('POST', '/v1/gate', { leadIds: [id] });
  expect(res.body.skipped).toEqual([{ leadId: id, code: 'no_email', detail: `Lead ${id} has no email address.` }]);
  expect((await svc.api('GET', `/v1/leads/${id}`)).body).toMatchObject({ status: 'skipped', statusReason: 'no_email' });
});

test('with the quota of every offered window used up, the lead stays composed and says so', async () => {
  await svc.api('PUT', '/v1/senders/zero', { dailyQuota: 0 });
  const [id] = await composedLeads(svc, [{ country: 'DE' }]);
  const res = await svc.api('POST', '/v1/gate', { leadIds: [id], sender: 'zero' });
  expect(res.status).toBe(200);
  expect(res.body.skipped).toEqual([
    { leadId: id, code: 'no_quota_room', detail: expect.stringMatching(/None of the next 30 sending windows/) },
  ]);
  expect((await svc.api('GET', `/v1/leads/${id}`)).body.status).toBe('composed');
});

test('the OpenAPI document describes the gate', async () => {
  const doc = await svc.api('GET', '/openapi.json');
  expect(doc.body.paths['/v1/gate'].post.responses['200']).toBeDefined();
  expect(doc.body.components.schemas.GateResult.properties).toHaveProperty('alreadyGated');
});

test('lead ids as JSON numbers are taken, as compose takes them', async () => {
  const [id] = await composedLeads(svc, [{ country: 'DE' }]);
  const res = await svc.api('POST', '/v1/gate', { leadIds: [Number(id)] });
  expect(res.status).toBe(200);
  const gated = [...res.body.sendNow, ...res.body.scheduled];
  expect(gated.map((s: { leadId: string }) => s.leadId)).toEqual([id]);
  expect(res.body.skipped).toEqual([]);
});

test('each wrong lead id gets one message that says what is wrong, a too large one that it is too large', async () => {
  const before = await snapshot();
  const res = await svc.api(
    'POST',
    '/v1/gate',
    // JSON.stringify writes 2 ** 63 as 9223372036854776000: past bigint
    { leadIds: ['99999999999999999999', 2 ** 63, '9223372036854775808', 2 ** 53 + 2, 'abc', 0] },
  );
  expect(res.status).toBe(400);
  expect(res.body.code).toBe('validation_failed');
  expect(res.body.errors).toEqual([
    { path: 'leadIds.0', message: 'is too large for a lead id (at most 9223372036854775807)' },
    { path: 'leadIds.1', message: 'is too large for a lead id (at most 9223372036854775807)' },
    { path: 'leadIds.2', message: 'is too large for a lead id (at most 9223372036854775807)' },
    { path: 'leadIds.3', message: expect.stringMatching(/no longer exact: send this lead id as text/) },
    { path: 'leadIds.4', message: 'must be a lead id: digits from 1, such as "42"' },
    { path: 'leadIds.5', message: 'must be a lead id: a whole number from 1, such as 42' },
  ]);
  expect(res.body.detail).toContain('leadIds.0: is too large for a lead id');
  expect(await snapshot()).toEqual(before);
});

test('a path id too large for bigint says so (GET /v1/leads/{id})', async () => {
  const res = await svc.api('GET', '/v1/leads/9223372036854775808');
  expect(res.status).toBe(400);
  expect(res.body.errors).toEqual([{ path: 'id', message: 'is too large for a lead id (at most 9223372036854775807)' }]);
});
