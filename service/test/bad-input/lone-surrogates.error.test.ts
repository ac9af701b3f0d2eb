// Text Postgres cannot store is bad input, not a 500: a lone UTF-16 surrogate
// ("\ud800" alone in a JSON string) is valid JSON but no Unicode text, and jsonb
// refuses it deep inside a SQL function. Refused up front as a 400 with nothing
// written; in an import it is one lead's problem (an `invalid` entry), not the
// whole import's. Event times with offsets Postgres cannot hold are refused too.
// Requests go to the app in-process (app.request): the point is the input, not the socket.
import { rawSql } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc?.stop();
});

/** Row counts of every table the requests below could write to. */
async function fingerprint(): Promise<Record<string, number>> {
  const sql = rawSql(svc);
  const tables = ['leads', 'senders', 'batches', 'sends', 'events', 'suppressions', 'apollo_searches'];
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = Number((await sql(`select count(*)::int as n from ${t}`))[0].n);
  return counts;
}

describe.each(['\ud800', '\udfff', 'ok\udbff', '\udc00tail'])('a lone surrogate %j', (lone) => {
  test.each([
    ['POST', '/v1/leads/import', () => ({ leads: [{ email: 'a@surrogate.example' }], source: lone })],
    ['PUT', '/v1/senders/default', () => ({ fromName: lone })],
    ['PUT', '/v1/senders/default', () => ({ [`x${lone}`]: 1 })],
    ['POST', '/v1/batches/claim', () => ({ idempotencyKey: lone })],
    ['POST', '/v1/sends/report', () => ({ results: [{ sendId: '1', status: 'failed', error: lone }] })],
    ['POST', '/v1/events', () => ({ kind: 'reply', email: 'a@surrogate.example', text: lone })],
    ['POST', '/v1/events', () => ({ kind: 'reply', inReplyTo: `<${lone}@mail>` })],
    ['POST', '/v1/searches', () => ({ leadsWanted: 5, filters: { qKeywords: lone } })],
    ['POST', '/v1/suppressions', () => ({ email: 'b@surrogate.example', reason: lone })],
  ])('in %s %s is a 400 validation problem and writes nothing', async (method, path, body) => {
    const before = await fingerprint();
    const r = await svc.inProcess(method, path, body());
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('validation_failed');
    expect(await fingerprint()).toEqual(before);
  });
});

test('one lead with a lone surrogate among good ones is one invalid entry; the good ones are imported', async () => {
  const r = await svc.inProcess('POST', '/v1/leads/import', {
    leads: [
      { email: 'good1@surrogate.example', firstName: 'Ana 😀' },
      { email: 'bad@surrogate.example', firstName: 'Jo\ud800' },
      { email: 'good2@surrogate.example', companyName: 'Ünïcödé GmbH' },
    ],
  });
  expect(r.status).toBe(200);
  expect(r.body.imported).toBe(2);
  expect(r.body.invalid).toEqual([{ index: 1, reason: expect.stringMatching(/^firstName: .*surrogate/) }]);
  const rows = await rawSql(svc)(`select email, first_name from leads where email like '%@surrogate.example' order by email`);
  expect(rows).toEqual([
    { email: 'good1@surrogate.example', first_name: 'Ana 😀' },
    { email: 'good2@surrogate.example', first_name: null },
  ]);
});

test('a surrogate pair written as escapes is ordinary text (an emoji)', async () => {
  const r = await svc.inProcess('PUT', '/v1/senders/emoji', '{"fromName": "Jane \\ud83d\\ude00"}');
  expect(r.status).toBe(200);
  expect(r.body.fromName).toBe('Jane 😀');
});

test.each(['+16:00', '+23:00', '-16:00', '+23:59', '-20:30'])(
  'an event received at an offset of %s (beyond any real zone and Postgres) is a 400 writing nothing',
  async (offset) => {
    const before = await fingerprint();
    const r = await svc.inProcess('POST', '/v1/events', {
      kind: 'reply',
      email: 'a@surrogate.example',
      receivedAt: `2026-11-28T10:00:00${offset}`,
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('validation_failed');
    expect(r.body.errors[0].path).toBe('receivedAt');
    expect(await fingerprint()).toEqual(before);
  },
);

test.each(['+14:00', '-12:00', '+05:45', '+15:59'])('an event received at an offset of %s is accepted', async (offset) => {
  const r = await svc.inProcess('POST', '/v1/events', {
    kind: 'bounce',
    email: `offset${offset.replace(/\W/g, '')}@surrogate.example`,
    receivedAt: `2026-11-28T10:00:00${offset}`,
  });
  expect(r.status).toBe(200);
});

test('a lone surrogate at the bottom of arrays nested 100,000 deep is a 400, not a stack overflow', async () => {
  const depth = 100_000;
  const body = `{"leads":${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}}`;
  const r = await svc.inProcess('POST', '/v1/batches/claim', body);
  expect(r.status).toBe(400);
});
