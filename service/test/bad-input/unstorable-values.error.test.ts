// Bad input never yields a 500 and never changes the database: input that every
// route's schema accepted but Postgres cannot store or read (the NUL character,
// dates outside the calendar, zone names only ICU still knows).
// Requests go to the app in-process (app.request): the point is the input, not the socket.
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc?.stop();
});

const NUL = '\u0000';

test.each([
  ['POST', '/v1/events', { kind: 'reply', email: 'a@nul.example', text: `hi${NUL}there` }],
  ['POST', '/v1/events', { kind: 'reply', inReplyTo: `abc${NUL}@mail` }],
  ['POST', '/v1/suppressions', { email: 'a@nul.example', reason: `x${NUL}` }],
  ['POST', '/v1/batches/claim', { idempotencyKey: `key${NUL}` }],
  ['PUT', '/v1/senders/default', { fromName: `Jane${NUL}` }],
  ['POST', '/v1/leads/import', { leads: [{ email: 'b@nul.example', firstName: `x${NUL}` }] }],
  ['POST', '/v1/sends/report', { results: [{ sendId: '1', status: 'failed', error: `SMTP${NUL}` }] }],
  ['POST', '/v1/searches', { leadsWanted: 5, filters: { qKeywords: `oil${NUL}` } }],
  ['DELETE', '/v1/suppressions/%00', undefined],
  ['GET', '/v1/suppressions?after=%00', undefined],
])('%s %s with a NUL character is a 400 validation problem', async (method, path, body) => {
  const r = await svc.inProcess(method, path, body);
  expect(r.status).toBe(400);
  expect(r.body.code).toBe('validation_failed');
});

test('a JSON text with an escaped backslash before "u0000" is ordinary text, not a NUL', async () => {
  const r = await svc.inProcess('PUT', '/v1/senders/default', { fromName: 'C:\\u0000 Jane' });
  expect(r.status).toBe(200);
  expect(r.body.fromName).toBe('C:\\u0000 Jane');
});

test('nothing a NUL request carried reached the database', async () => {
  await svc.inProcess('POST', '/v1/leads/import', { leads: [{ email: 'c@nul.example', firstName: `x${NUL}` }] });
  const events = await svc.inProcess('GET', '/v1/stats');
  expect(events.body.replied).toBe(0);
  const sup = await svc.inProcess('GET', '/v1/suppressions');
  expect(sup.body.suppressions).toEqual([]);
});

test.each(['2026-02-30', '2026-02-31', '2026-04-31', '0000-01-01'])('GET /v1/stats?day=%s is a 400, not a 500', async (day) => {
  const r = await svc.inProcess('GET', `/v1/stats?day=${day}`);
  expect(r.status).toBe(400);
  expect(r.body.code).toBe('validation_failed');
});

test('a leap day is a real date', async () => {
  expect((await svc.inProcess('GET', '/v1/stats?day=2028-02-29')).status).toBe(200);
});

test('an event received in year 0000 is a 400, not a 500', async () => {
  const r = await svc.inProcess('POST', '/v1/events', { kind: 'reply', email: 'a@nul.example', receivedAt: '0000-01-01T00:00:00Z' });
  expect(r.status).toBe(400);
  expect(r.body.code).toBe('validation_failed');
});

test('a zone name ICU still takes but tzdata dropped is refused for a sender and a lead (400 / invalid), not a 500 later', async () => {
  const put = await svc.inProcess('PUT', '/v1/senders/default', { timezone: 'US/Pacific-New' });
  expect(put.status).toBe(400);
  expect(put.body.code).toBe('validation_failed');
  const imp = await svc.inProcess('POST', '/v1/leads/import', { leads: [{ email: 'tz@nul.example', timezone: 'US/Pacific-New' }] });
  expect(imp.status).toBe(200);
  expect(imp.body.invalid).toHaveLength(1);
  // aliases tzdata keeps are still fine
  for (const timezone of ['Asia/Calcutta', 'Europe/Kiev', 'Etc/GMT+5', 'UTC']) {
    expect((await svc.inProcess('PUT', '/v1/senders/tzcheck', { timezone })).status).toBe(200);
  }
});

test.each([
  ['a long token', 'x'.repeat(300)],
  ['a NUL', '1.%00'],
])('an unsubscribe link with %s is a forged link: the 404 page, on GET and POST', async (_what, token) => {
  for (const method of ['GET', 'POST']) {
    const r = await svc.inProcess(method, `/unsubscribe/${token}`);
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
  }
});
