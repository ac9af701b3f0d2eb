// Bad input on every route of the batch and send lifecycle: a clear 4xx, and
// not one row changed anywhere.
// Requests go to the app in-process (app.request): the point is the input, not the socket.
import { importLeads, rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
let sendId: string;
beforeAll(async () => {
  svc = await startTestService();
  await importLeads(svc, 5);
  const batch = await svc.inProcess('POST', '/v1/batches/claim', { size: 2 });
  const now = Date.now();
  const [s] = await scheduleSends(svc, [batch.body.leads[0].id], new Date(now - 60_000), new Date(now + 3_600_000));
  sendId = s.sendId;
  await svc.inProcess('POST', '/v1/sends/claim-due', {});
});
afterAll(() => stopService(svc));

async function snapshot(): Promise<string> {
  const tables = ['leads', 'batches', 'sender_days', 'sends', 'events', 'suppressions', 'senders'];
  const parts: unknown[] = [];
  for (const t of tables) parts.push(await rawSql(svc)(`select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h from ${t} x`));
  return JSON.stringify(parts);
}

const BAD: [method: string, path: string, body: unknown, status: number, code: string][] = [
  ['POST', '/v1/batches/claim', { size: 0 }, 400, 'validation_failed'],
  ['POST', '/v1/batches/claim', { size: -5 }, 400, 'validation_failed'],
  ['POST', '/v1/batches/claim', { size: 1.5 }, 400, 'validation_failed'],
  ['POST', '/v1/batches/claim', { size: '10' }, 400, 'validation_failed'],
  ['POST', '/v1/batches/claim', { sender: 'Not A Sender!' }, 400, 'validation_failed'],
  ['POST', '/v1/batches/claim', { sender: 'nobody' }, 404, 'sender_not_found'],
  ['POST', '/v1/batches/claim', { idempotencyKey: '' }, 400, 'validation_failed'],
  ['POST', '/v1/batches/claim', { sizes: 3 }, 400, 'validation_failed'],
  ['POST', '/v1/batches/claim', '{"size": 3', 400, 'malformed_json'],
  ['POST', '/v1/batches/claim', [1, 2], 400, 'validation_failed'],
  ['POST', '/v1/sends/claim-due', { limit: 0 }, 400, 'validation_failed'],
  ['POST', '/v1/sends/claim-due', { limit: 501 }, 400, 'validation_failed'],
  ['POST', '/v1/sends/claim-due', { sender: 'nobody' }, 404, 'sender_not_found'],
  ['POST', '/v1/sends/report', {}, 400, 'validation_failed'],
  ['POST', '/v1/sends/report', { results: [] }, 400, 'validation_failed'],
  ['POST', '/v1/sends/report', { results: [{ sendId: 'abc', status: 'sent' }] }, 400, 'validation_failed'],
  ['POST', '/v1/sends/report', { results: [{ sendId: '1', status: 'bounced' }] }, 400, 'validation_failed'],
  ['POST', '/v1/sends/report', { results: [{ sendId: '1', status: 'sent' }, { sendId: '1', status: 'failed' }] }, 400, 'validation_failed'],
  ['POST', '/v1/sends/report', { results: [{ sendId: '999999', status: 'sent' }] }, 404, 'send_not_found'],
  ['POST', '/v1/sends/report', { results: [{ sendId: '1', status: 'sent', messageId: '<a@b>' }, { sendId: '2', status: 'sent', messageId: 'a@b' }] }, 400, 'validation_failed'],
  ['GET', '/v1/sends?status=weird', undefined, 400, 'validation_failed'],
  ['GET', '/v1/sends?limit=0', undefined, 400, 'validation_failed'],
  ['GET', '/v1/sends?limit=abc', undefined, 400, 'validation_failed'],
  ['POST', '/v1/sends/abc/retry', undefined, 400, 'validation_failed'],
  ['POST', '/v1/sends/999999/retry', undefined, 404, 'send_not_found'],
  ['POST', '/v1/sends/9999999999999999999/retry', undefined, 400, 'validation_failed'],
  ['POST', '/v1/sends/report', { results: [{ sendId: '9999999999999999999', status: 'sent' }] }, 400, 'validation_failed'],
  ['GET', '/v1/sends?leadId=9223372036854775808', undefined, 400, 'validation_failed'],
  ['POST', '/v1/events', {}, 400, 'validation_failed'],
  ['POST', '/v1/events', { kind: 'reply' }, 400, 'validation_failed'],
  ['POST', '/v1/events', { kind: 'open', email: 'a@b.co' }, 400, 'validation_failed'],
  ['POST', '/v1/events', { kind: 'reply', email: 'not-an-email' }, 400, 'validation_failed'],
  ['POST', '/v1/events', { kind: 'reply', email: 'a@b.co', receivedAt: 'yesterday' }, 400, 'validation_failed'],
  ['POST', '/v1/suppressions', { reason: 'x' }, 400, 'validation_failed'],
  ['POST', '/v1/suppressions', { email: 'a@b.co', domain: 'b.co', reason: 'x' }, 400, 'validation_failed'],
  ['POST', '/v1/suppressions', { email: 'a@b.co' }, 400, 'validation_failed'],
  ['POST', '/v1/suppressions', { domain: 'not a domain', reason: 'x' }, 400, 'validation_failed'],
  ['DELETE', '/v1/suppressions/nobody%40nowhere.test', undefined, 404, 'suppression_not_found'],
  ['GET', '/v1/stats?day=2026-02-31x', undefined, 400, 'validation_failed'],
  ['GET', '/v1/stats?sender=nobody', undefined, 404, 'sender_not_found'],
];

test.each(BAD)('%s %s %j → %i %s, nothing changed', async (method, path, body, status, code) => {
  const before = await snapshot();
  const r = await svc.inProcess(method, path, body);
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(r.body.code).toBe(code);
  expect(r.body.detail).toEqual(expect.any(String));
  expect(await snapshot()).toBe(before);
});

test('a report naming one unknown send records nothing, not even the known one', async () => {
  const before = await snapshot();
  const r = await svc.inProcess('POST', '/v1/sends/report', {
    results: [
      { sendId, status: 'sent', messageId: '<x@y>' },
      { sendId: '424242', status: 'sent' },
    ],
  });
  expect(r.status).toBe(404);
  expect(r.body.detail).toContain('424242');
  expect(await snapshot()).toBe(before);
});

test('retrying a send that is not dead or needs_review is a 409 and changes nothing', async () => {
  const before = await snapshot();
  const r = await svc.inProcess('POST', `/v1/sends/${sendId}/retry`);
  expect(r.status).toBe(409);
  expect(r.body.code).toBe('send_not_retryable');
  expect(await snapshot()).toBe(before);
});
