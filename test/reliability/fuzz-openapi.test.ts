// Every operation of /openapi.json fuzzed with fast-check: wrong types, missing
// and extra fields, huge strings, NUL, lone surrogates, unicode, NaN and huge
// numbers, dates with extreme offsets, arrays for objects, invalid JSON, wrong
// content types, path parameters with `../` and `%00`. For every request: no
// 5xx, no hang, a rejected (4xx) request changes nothing in the database (a
// fingerprint of every table before and after), and the connection it came on
// still serves the next request.
import http from 'node:http';
import fc from 'fast-check';
import { startFakeApollo, type FakeApollo } from '../../sandbox/fake-apollo';
import { startFakeFirecrawl, type FakeFirecrawl } from '../../sandbox/fake-firecrawl';
import { startFakeOpenAI, type FakeOpenAI } from '../../sandbox/fake-openai';
import { rawSql } from '../../service/test/support/sends-fixture';
import { startTestService, TEST_API_KEY, type TestService } from '../../service/test/support/test-service';
import { recordFigures } from './figures';

const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 30);
const REQUEST_TIMEOUT_MS = 30_000;

let svc: TestService;
let apollo: FakeApollo;
let openai: FakeOpenAI;
let firecrawl: FakeFirecrawl;
let agent: http.Agent;
beforeAll(async () => {
  apollo = await startFakeApollo({ seed: 5, people: 400, credits: 1_000_000 });
  openai = await startFakeOpenAI({ rpm: 100_000 });
  firecrawl = await startFakeFirecrawl({});
  svc = await startTestService({
    APOLLO_API_KEY: 'fake-apollo-key',
    APOLLO_BASE_URL: apollo.url,
    APOLLO_RETRY_BASE_MS: '1',
    OPENAI_API_KEY: 'fake-openai-key',
    OPENAI_BASE_URL: `${openai.url}/v1`,
    FIRECRAWL_API_KEY: 'fake-firecrawl-key',
    FIRECRAWL_API_URL: firecrawl.url,
  });
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // something for the routes to find: leads, a batch, sends, an event
  const leads = Array.from({ length: 30 }, (_, i) => ({ email: `fuzz${i}@fuzz.example`, companyName: `Fuzz ${i}`, timezone: 'UTC' }));
  await svc.api('POST', '/v1/leads/import', { leads });
  const batch = await svc.api('POST', '/v1/batches/claim', { size: 5 });
  const ids = batch.body.leads.map((l: { id: string }) => l.id);
  // compose refuses a sender without a name and a postal address
  await svc.api('PUT', '/v1/senders/default', { fromName: 'Fuzz Sender', postalAddress: '1 Fuzz Street, Springfield' });
  await svc.api('POST', '/v1/compose', { leadIds: ids });
  await svc.api('POST', '/v1/gate', { leadIds: ids });
  await svc.api('POST', '/v1/events', { kind: 'reply', email: 'fuzz20@fuzz.example' });
}, 120_000);
afterAll(async () => {
  agent?.destroy();
  await svc?.stop();
  await Promise.all([apollo?.close(), openai?.close(), firecrawl?.close()]);
});

/**
 * A digest of every table's rows: equal before and after means nothing was written.
 * Not mailbox_activity: a verify that fails (a 4xx about the mailbox, not about the
 * request) keeps what it found for the sender's health, as it should.
 */
async function fingerprint(): Promise<string> {
  const sql = rawSql(svc);
  const tables = await sql(`select tablename from pg_tables where schemaname = 'public' and tablename <> 'mailbox_activity' order by 1`);
  const parts: string[] = [];
  for (const { tablename } of tables) {
    const [row] = await sql(`select count(*)::int as n, md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), '')) as h from "${tablename}" t`);
    parts.push(`${tablename}:${row.n}:${row.h}`);
  }
  return parts.join('\n');
}

interface RawRequest {
  method: string;
  path: string;
  contentType?: string;
  body?: string | Buffer;
}

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function send(req: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      `${svc.url}${req.path}`,
      {
        method: req.method,
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          authorization: `Bearer ${TEST_API_KEY}`,
          ...(req.contentType ? { 'content-type': req.contentType } : {}),
          ...(req.body !== undefined ? { 'content-length': Buffer.byteLength(req.body) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms (a hang)`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

// ---------------------------------------------------------------------------
// Values: what the schema asks for, most of the time, and hostile values.

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\udbff',
  '😀',
  '\u202eevil',
  '\ufeff',
  '\uffff',
  'e\u0301'.repeat(50),
  '../../etc/passwd',
  '%00',
  "'; drop table leads; --",
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  'x'.repeat(70_000),
  '2026-11-28T10:00:00+23:59',
  '9999-12-31T23:59:59-15:59',
  '0001-01-01T00:00:00+15:59',
  '2026-02-30T00:00:00Z',
  '0000-01-01T00:00:00Z',
  'http://169.254.169.254/latest/meta-data/',
  'http://127.0.0.1:5432/',
  'not-an-email@',
  'a@b',
];
const HOSTILE_NUMBERS = [0, -1, -0, 1.5, 1e308, -1e308, 2 ** 53 + 1, 2 ** 31, -(2 ** 31) - 1, 1e-320];
/** Tokens that are not JSON numbers, put where a number goes. */
const NON_JSON_NUMBERS = ['NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '0x10', '01'];

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.constantFrom(...HOSTILE_NUMBERS),
  fc.constantFrom(null, true, false, [], {}, [null], { a: 1 }, ['x']),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

type Schema = Record<string, any>;
let doc: Schema;

function resolve(s: Schema | undefined): Schema {
  let cur = s ?? {};
  while (cur.$ref) cur = cur.$ref.split('/').slice(1).reduce((o: Schema, k: string) => o[k], doc);
  return cur;
}

function fromSchema(input: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(input);
  const valid = validFromSchema(s, depth);
  return depth > 5 ? valid : fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: hostileValue });
}

function validFromSchema(s: Schema, depth: number): fc.Arbitrary<unknown> {
  if (s.enum) return fc.constantFrom(...(s.enum as unknown[]));
  if (s.const !== undefined) return fc.constant(s.const);
  const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((a) => fromSchema(a, depth + 1)));
  if (s.allOf) return fromSchema(s.allOf[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type : [s.type ?? (s.properties ? 'object' : 'string')];
  return fc.oneof(...type.map((t: string) => validOfType(t, s, depth)));
}

function validOfType(type: string, s: Schema, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'object': {
      const props = Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, fromSchema(v as Schema, depth + 1)]));
      const record = fc.record(props, { requiredKeys: (s.required ?? []).filter((k: string) => k in props) });
      // sometimes a required field missing, sometimes a field nobody declared
      return fc.oneof(
        { weight: 6, arbitrary: record },
        { weight: 1, arbitrary: fc.record(props, { requiredKeys: [] }) },
        { weight: 1, arbitrary: record.map((r) => ({ ...(r as object), unexpectedField: 'x' })) },
      );
    }
    case 'array':
      return fc.array(fromSchema(s.items, depth + 1), { maxLength: Math.min(s.maxItems ?? 4, 4), minLength: Math.min(s.minItems ?? 0, 4) });
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? -1000, -1e9), max: Math.min(s.maximum ?? 1000, 1e9) });
    case 'number':
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      if (s.format === 'email') return fc.emailAddress();
      if (s.format === 'date-time') return fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      if (s.format === 'date') return fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
      if (s.format === 'uri' || s.format === 'url') return fc.webUrl();
      return fc.string({ unit: 'grapheme', minLength: Math.min(s.minLength ?? 0, 10), maxLength: Math.min(s.maxLength ?? 20, 40) });
  }
}

/** A JSON text with one number token replaced by something JSON has no number for. */
function withNonJsonNumber(json: string, token: string): string {
  return /-?\d+(\.\d+)?([eE][+-]?\d+)?/.test(json) ? json.replace(/(:\s*)-?\d+(\.\d+)?([eE][+-]?\d+)?/, `$1${token}`) : json;
}

const PATH_PARAM_SPELLINGS = ['1', '0', '-1', '99999999999999999999', '../', '..%2F..%2Fopenapi.json', '%2e%2e', '%00', 'a%00b', '%ff', '%C0%AE', '%F0%9F%98%80', 'default', 'x'.repeat(300), '%20'];

interface Operation {
  method: string;
  template: string;
  params: Schema[];
  bodySchema?: Schema;
}

function requestFor(op: Operation): fc.Arbitrary<RawRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const pathArb = fc.tuple(
    ...pathParams.map((p) =>
      fc.oneof(
        fc.constantFrom(...PATH_PARAM_SPELLINGS),
        fromSchema(p.schema).map((v) => encodeURIComponent(typeof v === 'string' ? v.replace(/[\uD800-\uDFFF]/g, '\uFFFD') : JSON.stringify(v))),
      ),
    ),
  );
  const queryArb = fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...queryParams.map((p) => p.name as string), 'unknown'), fc.constant('limit')),
      fc.oneof(fc.constantFrom('', '%00', '%ff', '-1', '1e400', 'NaN', '2026-02-30', 'x'.repeat(5000)), fc.string({ maxLength: 10 }).map(encodeURIComponent)),
    ),
    { maxLength: 3 },
  );
  const json = fromSchema(op.bodySchema ?? { type: 'object' });
  const bodyArb: fc.Arbitrary<{ contentType?: string; body?: string | Buffer }> = fc.oneof(
    { weight: 8, arbitrary: json.map((v) => ({ contentType: 'application/json', body: JSON.stringify(v) ?? 'null' })) },
    { weight: 1, arbitrary: fc.tuple(json, fc.constantFrom(...NON_JSON_NUMBERS)).map(([v, t]) => ({ contentType: 'application/json', body: withNonJsonNumber(JSON.stringify(v) ?? '0', t) })) },
    { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[1,]', '{"a":1}}', "{'a':1}", '\u0000', '', 'null', '"str"', '12', '[]', `{"a":${'['.repeat(100_000)}"\\ud800"${']'.repeat(100_000)}}`, `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`).map((body) => ({ contentType: 'application/json', body })) },
    { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), Buffer.from('{"a":"\xed\xa0\x80"}', 'latin1')).map((body) => ({ contentType: 'application/json', body })) },
    { weight: 1, arbitrary: fc.tuple(json, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/jsonx', undefined)).map(([v, contentType]) => ({ contentType, body: JSON.stringify(v) ?? 'null' })) },
    { weight: 1, arbitrary: fc.constant({}) },
  );
  return fc.record({ path: pathArb, query: queryArb, body: bodyArb }).map(({ path, query, body }) => {
    let i = 0;
    const filled = op.template.replace(/\{[^}]+\}/g, () => String(path[i++]));
    const qs = query.length ? `?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : '';
    const withBody = op.method !== 'GET' && op.method !== 'HEAD';
    return { method: op.method, path: `${filled}${qs}`, ...(withBody ? body : {}) };
  });
}

test('every operation of /openapi.json: no 5xx, no hang, a rejected request writes nothing, the connection stays usable', async () => {
  doc = (await svc.api('GET', '/openapi.json')).body;
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths as Record<string, Schema>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      operations.push({
        method: method.toUpperCase(),
        template,
        params: ((op.parameters ?? []) as Schema[]).map(resolve),
        bodySchema: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  expect(operations.length).toBeGreaterThan(15);

  const perOperation: Record<string, Record<string, number>> = {};
  const failures: string[] = [];
  let requests = 0;
  // the database as the previous request left it (the /healthz probes write nothing)
  let before = await fingerprint();
  for (const op of operations) {
    const name = `${op.method} ${op.template}`;
    const counts: Record<string, number> = (perOperation[name] = {});
    await fc.assert(
      fc.asyncProperty(requestFor(op), async (req) => {
        let answer: RawAnswer;
        try {
          answer = await send(req);
        } catch (err) {
          failures.push(`${name}: ${req.method} ${req.path.slice(0, 200)}: ${(err as Error).message}`);
          throw err;
        }
        requests++;
        counts[answer.status] = (counts[answer.status] ?? 0) + 1;
        const problem = (() => {
          try {
            return JSON.parse(answer.text);
          } catch {
            return undefined;
          }
        })();
        if (answer.status >= 500) {
          failures.push(`${name}: ${req.method} ${req.path.slice(0, 200)} ${String(req.body).slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 300)}`);
        }
        expect(answer.status).toBeLessThan(500);
        const after = await fingerprint();
        if (answer.status >= 400) {
          // a problem document with a stable code, and nothing written
          if (req.path.startsWith('/v1') || answer.headers['content-type']?.includes('json')) expect(problem?.code).toMatch(/^[a-z_]+$/);
          if (after !== before) failures.push(`${name}: ${req.method} ${req.path.slice(0, 200)} → ${answer.status} wrote to the database`);
          expect(after).toBe(before);
        }
        before = after;
        // the same connection serves the next request (or the answer said it closes)
        const next = await send({ method: 'GET', path: '/healthz' });
        expect(next.status).toBe(200);
      }),
      { numRuns: RUNS_PER_OPERATION, endOnFailure: true },
    );
  }
  recordFigures('fuzz-openapi', {
    operations: operations.length,
    runsPerOperation: RUNS_PER_OPERATION,
    requests,
    seed: fc.readConfigureGlobal().seed,
    failures: failures.length,
    statusesByOperation: perOperation,
  });
  expect(failures).toEqual([]);
});
