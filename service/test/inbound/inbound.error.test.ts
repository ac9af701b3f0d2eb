import { rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { postRaw } from './inbound-fixture';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ COROFY_INBOUND_BODY_LIMIT_BYTES: String(64 * 1024) });
}, 180_000); // the embedded database starts slowly on a loaded machine
afterAll(() => stopService(svc));

const counts = async () =>
  (await rawSql(svc)('select (select count(*) from inbound_messages)::int as m, (select count(*) from events)::int as e'))[0];

const valid = 'From: a@b.test\r\nMessage-ID: <x@b.test>\r\nSubject: hi\r\n\r\nhello';

test.each([
  ['a JSON body', 'application/json', '{"kind":"reply"}', 415, 'unsupported_media_type'],
  ['no header block', 'message/rfc822', 'just some words\r\nand more', 400, 'not_a_message'],
  ['an empty body', 'message/rfc822', '', 400, 'not_a_message'],
])('%s is refused with a problem and nothing is written', async (_n, type, body, status, code) => {
  const before = await counts();
  const r = await postRaw(svc, body, '', type);
  expect(r.status).toBe(status);
  expect(r.body).toMatchObject({ status, code });
  expect(await counts()).toEqual(before);
});

test('a message over the limit is refused with 413', async () => {
  const before = await counts();
  const r = await postRaw(svc, valid + 'x'.repeat(70 * 1024));
  expect(r.status).toBe(413);
  expect(r.body.code).toBe('payload_too_large');
  expect(await counts()).toEqual(before);
});

test('an unknown sender is a 404 and nothing is written', async () => {
  const before = await counts();
  const r = await postRaw(svc, valid, '?sender=nobody');
  expect(r.status).toBe(404);
  expect(r.body.code).toBe('sender_not_found');
  expect(await counts()).toEqual(before);
});

test('without the API key: 401', async () => {
  const res = await fetch(`${svc.url}/v1/inbound`, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: valid });
  expect(res.status).toBe(401);
});

test('the endpoint is in /openapi.json', async () => {
  const doc = (await svc.api('GET', '/openapi.json')).body;
  expect(Object.keys(doc.paths['/v1/inbound'].post.requestBody.content)).toEqual(['message/rfc822']);
});
