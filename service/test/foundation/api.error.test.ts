import { callApi, startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ COROFY_BODY_LIMIT_BYTES: '4096', COROFY_IMPORT_BODY_LIMIT_BYTES: '65536' });
  await svc.api('POST', '/v1/leads/import', { leads: [{ email: 'kept@example.com' }] });
});
afterAll(async () => svc?.stop());

async function leadCount(): Promise<number> {
  // lead ids are the sequence: the next import tells how many exist
  const r = await svc.api('POST', '/v1/leads/import', { leads: [{ email: `probe-${Math.random()}@example.com` }] });
  return Number(r.body.leadIds[0]) - 1;
}

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code, title: expect.any(String), type: expect.any(String) });
}

test.each([
  ['GET', '/v1/senders'],
  ['GET', '/v1/stats'],
  ['GET', '/v1/leads/1'],
  ['POST', '/v1/leads/import'],
  ['PUT', '/v1/senders/default'],
])('%s %s without or with a wrong key is 401', async (method, path) => {
  const none = await callApi(svc.url, method, path, undefined, { authorization: '' });
  expectProblem(none, 401, 'unauthorized');
  const wrong = await callApi(svc.url, method, path, undefined, { authorization: 'Bearer wrong-key-0123456789' });
  expectProblem(wrong, 401, 'unauthorized');
  expect(wrong.body.detail).toMatch(/wrong/i);
});

test('public routes need no key', async () => {
  for (const path of ['/healthz', '/readyz', '/openapi.json']) {
    const res = await callApi(svc.url, 'GET', path, undefined, { authorization: '' });
    expect(res.status).toBe(200);
  }
});

test('bad input is a 4xx problem and changes nothing', async () => {
  const before = await leadCount();
  const cases: [string, string, unknown, Record<string, string>, number, string][] = [
    ['POST', '/v1/leads/import', '{"leads": [', {}, 400, 'malformed_json'],
    ['POST', '/v1/leads/import', { leads: 'x' }, {}, 400, 'validation_failed'],
    ['POST', '/v1/leads/import', { leads: [] }, {}, 400, 'validation_failed'],
    ['POST', '/v1/leads/import', {}, {}, 400, 'validation_failed'],
    ['POST', '/v1/leads/import', 'leads=1', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
    ['GET', '/v1/leads/abc', undefined, {}, 400, 'validation_failed'],
    ['GET', '/v1/leads/999999', undefined, {}, 404, 'lead_not_found'],
    ['GET', '/v1/leads/9999999999999999999', undefined, {}, 400, 'validation_failed'], // over bigint
    ['GET', '/v1/leads/9223372036854775807', undefined, {}, 404, 'lead_not_found'], // the largest bigint
    ['PUT', '/v1/senders/default', { dailyQuota: -1 }, {}, 400, 'validation_failed'],
    ['PUT', '/v1/senders/default', { timezone: 'Mars/Olympus' }, {}, 400, 'validation_failed'],
    ['PUT', '/v1/senders/default', { unknownField: 1 }, {}, 400, 'validation_failed'],
    ['PUT', '/v1/senders/Bad%20Id', { dailyQuota: 5 }, {}, 400, 'validation_failed'],
    ['GET', '/v1/stats?sender=nobody', undefined, {}, 404, 'sender_not_found'],
    ['GET', '/v1/stats?day=2026-13-45', undefined, {}, 400, 'validation_failed'],
    ['GET', '/v1/nothing-here', undefined, {}, 404, 'not_found'],
  ];
  for (const [method, path, body, headers, status, code] of cases) {
    const res = await svc.api(method, path, body, headers);
    expect({ path, status: res.status, code: res.body?.code }).toEqual({ path, status, code });
    expectProblem(res, status, code);
  }
  const senders = await svc.api('GET', '/v1/senders');
  expect(senders.body.senders).toEqual([expect.objectContaining({ id: 'default', dailyQuota: 400, timezone: 'UTC' })]);
  expect(await leadCount()).toBe(before + 1); // only the probe itself
});

test('a validation problem lists the offending fields', async () => {
  const res = await svc.api('PUT', '/v1/senders/default', { dailyQuota: 'many', window: { days: ['funday'], start: '9', end: '17:00' } });
  expectProblem(res, 400, 'validation_failed');
  const paths = res.body.errors.map((e: { path: string }) => e.path);
  expect(paths).toEqual(expect.arrayContaining(['dailyQuota', 'window.days.0', 'window.start']));
});

test('a field that fails several checks gets one message, the first it failed', async () => {
  // too long and not a domain at once: zod reports both, the answer names the field once
  const res = await svc.api('POST', '/v1/suppressions', { domain: `${'x'.repeat(300)}!`, reason: 'test' });
  expectProblem(res, 400, 'validation_failed');
  expect(res.body.errors).toEqual([{ path: 'domain', message: expect.stringMatching(/<=253 characters/) }]);
  expect(res.body.detail.match(/domain:/g)).toHaveLength(1);
});

test('oversize bodies are 413 and import has its own larger limit', async () => {
  const big = { leads: [{ email: 'a@example.com', title: 'x'.repeat(5000) }] };
  expectProblem(await svc.api('PUT', '/v1/senders/default', { fromName: 'x'.repeat(5000) }), 413, 'payload_too_large');
  // 5 KB is over the default limit but fine for import (the title itself is then invalid: > 200)
  const imp = await svc.api('POST', '/v1/leads/import', big);
  expect(imp.status).toBe(200);
  expect(imp.body.invalid[0].reason).toMatch(/title/);
  const huge = { leads: Array.from({ length: 2000 }, (_, i) => ({ email: `huge${i}@example.com`, title: 'y'.repeat(40) })) };
  expectProblem(await svc.api('POST', '/v1/leads/import', huge), 413, 'payload_too_large');
  const tooMany = { leads: Array.from({ length: 5001 }, () => ({})) };
  const r = await svc.api('POST', '/v1/leads/import', tooMany);
  expect([400, 413]).toContain(r.status);
});

test('an invalid sender update keeps the stored sender', async () => {
  await svc.api('PUT', '/v1/senders/default', { dailyQuota: 250, fromName: 'Ana' });
  await svc.api('PUT', '/v1/senders/default', { dailyQuota: 300, window: { days: ['mon'], start: '17:00', end: '09:00' } });
  const s = await svc.api('GET', '/v1/senders/default');
  expect(s.body).toMatchObject({ dailyQuota: 250, fromName: 'Ana' });
});
