import { importLeads, promptData, startComposeWorld, type ComposeWorld } from './compose-fixture';

let w: ComposeWorld;
beforeAll(async () => {
  w = await startComposeWorld({
    env: { OPENAI_TIMEOUT_MS: '1000' },
    firecrawl: {
      pages: {
        'paintco.example': { title: 'PaintCo', markdown: 'PaintCo makes industrial coating and primer systems.' },
        'brokenco.example': { title: 'Not found', markdown: 'Page not found', statusCode: 404 },
      },
    },
  });
});
afterAll(async () => w?.stop());
beforeEach(() => {
  w.openai.setFaults([]);
  w.firecrawl.setFaults([]);
});

const compose = (body: unknown) => w.svc.api('POST', '/v1/compose', body);
let n = 0;
const lubeLeads = (count: number) =>
  importLeads(
    w.svc,
    Array.from({ length: count }, () => {
      n++;
      return { email: `lead${n}@oil${n}.test`, firstName: `Name${n}`, companyName: `Oil ${n}`, industry: 'Lubricants' };
    }),
  );
const requestsFor = (leadFirstName: string) =>
  w.openai.state.requests.filter((r) => promptData(r.user).lead?.firstName === leadFirstName);

test('insufficient_quota stops the call at once with 402 openai_insufficient_quota and is never retried', async () => {
  const ids = await lubeLeads(4);
  w.openai.setFaults([{ fault: { kind: 'insufficient_quota' } }]);
  const before = w.openai.state.requests.length;
  const r = await compose({ leadIds: ids });
  expect(r.status).toBe(402);
  expect(r.headers.get('content-type')).toContain('application/problem+json');
  expect(r.body).toMatchObject({ status: 402, code: 'openai_insufficient_quota' });
  expect(r.body.detail).toMatch(/quota/);
  const sent = w.openai.state.requests.slice(before);
  expect(sent.length).toBeGreaterThanOrEqual(1);
  // no lead was asked for twice (no retry), and no draft was stored
  const names = sent.map((q) => promptData(q.user).lead.firstName);
  expect(new Set(names).size).toBe(names.length);
  for (const id of ids) expect((await w.svc.api('GET', `/v1/leads/${id}`)).body.status).toBe('new');
});

test('a rejected key is 502 openai_unauthorized', async () => {
  const ids = await lubeLeads(1);
  w.openai.setFaults([{ fault: { kind: 'invalid_api_key' } }]);
  const r = await compose({ leadIds: ids });
  expect(r.status).toBe(502);
  expect(r.body.code).toBe('openai_unauthorized');
});

test('rate_limit_exceeded is retried after retry-after-ms / retry-after, 5xx with backoff: the caller sees no error', async () => {
  const ids = await lubeLeads(3);
  w.openai.setFaults([
    { fault: { kind: 'rate_limit', retryAfterMs: 40 }, times: 2 },
    { fault: { kind: 'rate_limit', retryAfterMs: null, retryAfterSeconds: 1 }, times: 1 },
    { fault: { kind: 'server_error', status: 500 }, times: 1 },
    { fault: { kind: 'server_error', status: 503 }, times: 1 },
  ]);
  const limited = w.openai.state.rateLimited;
  const r = await compose({ leadIds: ids });
  expect(r.status).toBe(200);
  expect(r.body.failed).toEqual([]);
  expect(r.body.emails).toHaveLength(3);
  expect(w.openai.state.rateLimited - limited).toBe(3);
});

test('an answer slower than OPENAI_TIMEOUT_MS is abandoned and retried', async () => {
  const [id] = await lubeLeads(1);
  const name = `Name${n}`;
  w.openai.setFaults([{ fault: { kind: 'slow', delayMs: 2500 }, times: 1 }]);
  const r = await compose({ leadIds: [id] });
  expect(r.status).toBe(200);
  expect(r.body.emails[0]).toMatchObject({ leadId: id, generated: true });
  expect(requestsFor(name).length).toBeGreaterThanOrEqual(1);
  expect(w.svc.deps.openai.stats.serverErrors).toBeGreaterThanOrEqual(1);
});

test('a draft with a placeholder is regenerated once with the reason', async () => {
  const [id] = await lubeLeads(1);
  const name = `Name${n}`;
  w.openai.setFaults([{ fault: { kind: 'bad_draft', flaw: 'placeholder' }, times: 1 }]);
  const r = await compose({ leadIds: [id] });
  expect(r.body.failed).toEqual([]);
  expect(r.body.emails[0].text).not.toContain('[Your Name]');
  const asked = requestsFor(name);
  expect(asked).toHaveLength(2);
  expect(promptData(asked[1]!.user).previousDraftRejectedBecause).toMatch(/placeholder "\[Your Name\]"/);
});

test.each([
  ['wrong_name', /first name/],
  ['too_long', /characters long/],
  ['not_json', /JSON/],
] as const)('a draft that stays bad (%s) is reported in failed after one regeneration, and nothing is stored', async (flaw, reason) => {
  const [id] = await lubeLeads(1);
  const name = `Name${n}`;
  w.openai.setFaults([{ fault: { kind: 'bad_draft', flaw } }]);
  const r = await compose({ leadIds: [id] });
  expect(r.status).toBe(200);
  expect(r.body.emails).toEqual([]);
  expect(r.body.failed).toEqual([{ leadId: id, code: 'draft_rejected', detail: expect.stringMatching(reason) }]);
  expect(requestsFor(name)).toHaveLength(2);
  w.openai.setFaults([]);
  const again = await compose({ leadIds: [id] });
  expect(again.body.emails[0]).toMatchObject({ leadId: id, generated: true });
});

test('Firecrawl out of credits: the email is composed without the website and says why', async () => {
  const [id] = await importLeads(w.svc, [{ email: 'pat@paintco.example', firstName: 'Pat', companyDomain: 'paintco.example' }]);
  w.firecrawl.setFaults([{ fault: { kind: 'insufficient_credits' } }]);
  const r = await compose({ leadIds: [id] });
  expect(r.body.emails[0]).toMatchObject({ source: 'generic', website: { outcome: 'failed', detail: expect.stringMatching(/firecrawl_insufficient_credits/) } });
});

test('Firecrawl 429 and 408 are retried; the page is then used', async () => {
  const [id] = await importLeads(w.svc, [{ email: 'quinn@paintco.example', firstName: 'Quinn', website: 'paintco.example' }]);
  w.firecrawl.setFaults([
    { fault: { kind: 'rate_limited', retryAfterSeconds: 0 }, times: 1 },
    { fault: { kind: 'timeout' }, times: 1 },
  ]);
  const before = w.firecrawl.state.scrapes.length;
  const r = await compose({ leadIds: [id] });
  expect(r.body.emails[0]).toMatchObject({ source: 'website', product: 'Dispersing agents and rheology modifiers', website: { outcome: 'scraped' } });
  expect(w.firecrawl.state.scrapes.slice(before).map((s) => s.status)).toEqual([429, 408, 200]);
});

test("a site whose own status is 404 is not used (source generic) and the answer is cached", async () => {
  const ids = await importLeads(w.svc, [
    { email: 'rita@brokenco.example', firstName: 'Rita', companyDomain: 'brokenco.example' },
    { email: 'sid@brokenco.example', firstName: 'Sid', companyDomain: 'brokenco.example' },
  ]);
  const first = await compose({ leadIds: [ids[0]] });
  expect(first.body.emails[0]).toMatchObject({ source: 'generic', website: { outcome: 'empty' } });
  const before = w.firecrawl.state.scrapes.length;
  const second = await compose({ leadIds: [ids[1]] });
  expect(second.body.emails[0]).toMatchObject({ source: 'generic', website: { outcome: 'empty' } });
  expect(w.firecrawl.state.scrapes.length).toBe(before);
});

test('bad input is a 400 and an unknown sender a 404', async () => {
  expect((await compose({ leadIds: [] })).status).toBe(400);
  expect((await compose({ leadIds: Array.from({ length: 51 }, (_, i) => String(i + 1)) })).status).toBe(400);
  const bad = await compose({ leadIds: ['abc'] });
  expect(bad.status).toBe(400);
  expect(bad.body.code).toBe('validation_failed');
  expect((await compose({ leadIds: ['1'], extra: true })).status).toBe(400);
  const [id] = await lubeLeads(1);
  const r = await compose({ leadIds: [id], sender: 'nobody' });
  expect(r.status).toBe(404);
  expect(r.body.code).toBe('sender_not_found');
});

test('without OPENAI_API_KEY composing is 503 openai_not_configured', async () => {
  const other = await startComposeWorld({ env: { OPENAI_API_KEY: '' } });
  try {
    const [id] = await importLeads(other.svc, [{ email: 'x@y.test', firstName: 'X', industry: 'Lubricants' }]);
    const r = await other.svc.api('POST', '/v1/compose', { leadIds: [id] });
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('openai_not_configured');
  } finally {
    await other.stop();
  }
});
