// Every /v1 route refuses a caller without the key: no key, a wrong or
// near-miss key, the key where it does not belong (query string, other
// headers), and path spellings that a lenient router might map onto /v1
// (`/V1`, `//v1`, `%76%31`, `/x/..`). Unsubscribe links that were forged,
// truncated or taken from another lead never unsubscribe anyone.
import http from 'node:http';
import { unsubscribeToken } from '../../service/src/unsubscribe/unsubscribe-token';
import { rawSql } from '../../service/test/support/sends-fixture';
import { startTestService, TEST_API_KEY, type TestService } from '../../service/test/support/test-service';
import { recordFigures } from './figures';

const SECRET = 'reliability-unsubscribe-secret-0123456789';

let svc: TestService;
let leadIds: string[];
beforeAll(async () => {
  svc = await startTestService({ COROFY_UNSUBSCRIBE_SECRET: SECRET });
  const leads = Array.from({ length: 5 }, (_, i) => ({ email: `auth${i}@auth.example` }));
  leadIds = (await svc.api('POST', '/v1/leads/import', { leads })).body.leadIds;
});
afterAll(async () => {
  await svc?.stop();
});

/** A request with the path exactly as given (no URL normalisation by the client). */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(svc.url);
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const nearMisses = [
  TEST_API_KEY.slice(0, -1),
  `${TEST_API_KEY}x`,
  TEST_API_KEY.toUpperCase(),
  `${TEST_API_KEY.slice(0, -1)}${TEST_API_KEY.endsWith('f') ? 'e' : 'f'}`,
  ` ${TEST_API_KEY.slice(1)}`,
  '',
  'null',
  'undefined',
  `${TEST_API_KEY}\u0000`,
];

function withKeyElsewhere(): Record<string, string>[] {
  return [
    {},
    { authorization: 'Bearer' },
    { authorization: TEST_API_KEY },
    { authorization: `Basic ${Buffer.from(`${TEST_API_KEY}:`).toString('base64')}` },
    { authorization: `Token ${TEST_API_KEY}` },
    { 'x-api-key': TEST_API_KEY },
    { apikey: TEST_API_KEY },
    { cookie: `key=${TEST_API_KEY}` },
    ...nearMisses.map((k) => ({ authorization: `Bearer ${k}` })),
  ];
}

test('every /v1 operation refuses every wrong way to present a key, and every path spelling without one', async () => {
  const doc = (await svc.api('GET', '/openapi.json')).body;
  const operations: { method: string; path: string }[] = [];
  for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    if (!template.startsWith('/v1')) continue;
    for (const method of Object.keys(item)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) {
        operations.push({ method: method.toUpperCase(), path: template.replace(/\{[^}]+\}/g, (p) => (p === '{id}' && template.includes('senders') ? 'default' : leadIds[0]!)) });
      }
    }
  }
  expect(operations.length).toBeGreaterThan(10);

  const accepted: string[] = [];
  let attempts = 0;
  const body = '{}';
  for (const op of operations) {
    for (const headers of withKeyElsewhere()) {
      // invalid header values (the NUL) never leave the client: skip them
      if (Object.values(headers).some((v) => /[\u0000-\u001f]/.test(v))) continue;
      const r = await raw(op.method, op.path, headers, op.method === 'GET' || op.method === 'DELETE' ? undefined : body);
      attempts++;
      if (r.status !== 401) accepted.push(`${op.method} ${op.path} ${JSON.stringify(headers)} → ${r.status}`);
    }
    for (const q of ['api_key', 'key', 'access_token', 'apiKey', 'token']) {
      const sep = op.path.includes('?') ? '&' : '?';
      const r = await raw(op.method, `${op.path}${sep}${q}=${TEST_API_KEY}`, {}, op.method === 'GET' || op.method === 'DELETE' ? undefined : body);
      attempts++;
      if (r.status !== 401) accepted.push(`${op.method} ${op.path} with ?${q}= → ${r.status}`);
    }
    const rest = op.path.slice('/v1'.length);
    for (const spelling of ['/V1', '//v1', '/%76%31', '/%76%31/', '/x/../v1', '/./v1', '/v1/.', '/v1%2f', '/%2576%2531', '/v1;', '/v1%00', '/\\v1']) {
      const path = `${spelling}${rest}`;
      const r = await raw(op.method, path, {}, op.method === 'GET' || op.method === 'DELETE' ? undefined : body);
      attempts++;
      // refused: the key is asked for, or there is no such route; never served
      if (r.status < 400 || r.status >= 500) accepted.push(`${op.method} ${path} → ${r.status}`);
    }
  }
  // the control: the key, presented as documented, works for the same requests
  const ok = await raw('GET', '/v1/stats', { authorization: `Bearer ${TEST_API_KEY}` });
  expect(ok.status).toBe(200);
  recordFigures('auth', { operations: operations.length, refusedAttempts: attempts - accepted.length, accepted: accepted.length });
  expect(accepted).toEqual([]);
});

test('forged, truncated and cross-lead unsubscribe tokens never unsubscribe anyone; the genuine one does', async () => {
  const sql = rawSql(svc);
  const genuine = unsubscribeToken(SECRET, leadIds[0]!);
  const [id, sig] = genuine.split('.') as [string, string];
  const other = unsubscribeToken(SECRET, leadIds[1]!).split('.')[1]!;
  const flip = (s: string, i: number) => `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
  const forged = [
    `${leadIds[2]}.${sig}`, // another lead with this lead's signature
    `${id}.${other}`, // this lead with another lead's signature
    unsubscribeToken('another-secret-of-the-same-length-000000', id),
    `${id}.${flip(sig, 0)}`,
    `${id}.${flip(sig, sig.length - 1)}`,
    genuine.slice(0, -1),
    genuine.slice(0, -10),
    `${id}.`,
    id,
    `.${sig}`,
    `${genuine}A`,
    `0${genuine}`,
    `${id}.${sig.toUpperCase()}`,
    `${id}.${sig}%00`,
    // dot segments that end on a forged token (percent-encoded dots decode to the genuine link itself)
    `${genuine}/../${leadIds[2]}.${sig}`,
    `${genuine}/%2e%2e/${leadIds[2]}.${sig}`,
    encodeURIComponent(`${id}.${sig}`.replace(/-/g, '+').replace(/_/g, '/')),
  ];
  const tries: string[] = [];
  for (const token of forged) {
    for (const method of ['GET', 'POST']) {
      const r = await raw(method, `/unsubscribe/${token}`, method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}, method === 'POST' ? 'List-Unsubscribe=One-Click' : undefined);
      if (r.status < 400 || r.status >= 500) tries.push(`${method} ${token} → ${r.status}`);
    }
  }
  const suppressed = await sql(`select count(*)::int as n from suppressions`);
  const statuses = await sql(`select count(*)::int as n from leads where status = 'unsubscribed'`);
  expect(tries).toEqual([]);
  expect(suppressed[0].n).toBe(0);
  expect(statuses[0].n).toBe(0);

  // the control: the genuine link unsubscribes exactly its own lead
  const real = await raw('POST', `/unsubscribe/${genuine}`, { 'content-type': 'application/x-www-form-urlencoded' }, 'List-Unsubscribe=One-Click');
  expect(real.status).toBe(200);
  const after = await sql(`select value from suppressions`);
  expect(after.map((r) => r.value)).toEqual(['auth0@auth.example']);
  recordFigures('unsubscribe-forgery', { forgedTokens: forged.length, attempts: forged.length * 2, unsubscribed: 0 });
});
