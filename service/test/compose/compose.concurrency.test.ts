import { importLeads, startComposeWorld, type ComposeWorld } from './compose-fixture';

const lubeLeads = (w: ComposeWorld, prefix: string, count: number) =>
  importLeads(
    w.svc,
    Array.from({ length: count }, (_, i) => ({ email: `${prefix}${i}@oil.test`, firstName: `${prefix}${i}`, industry: 'Lubricants' })),
  );

describe('limiter configured to the provider limit', () => {
  let w: ComposeWorld;
  beforeAll(async () => {
    // 600 requests/minute with a burst of 5: 16 workers firing at once would get 11 429s;
    // only an evenly paced client gets through without one.
    w = await startComposeWorld({ env: { OPENAI_RPM: '600' }, openai: { rpm: 600, burst: 5 } });
  });
  afterAll(async () => w?.stop());

  test('concurrent calls share one limiter: the provider never answers 429', async () => {
    const ids = await lubeLeads(w, 'p', 24);
    const [a, b, c] = await Promise.all([
      w.svc.api('POST', '/v1/compose', { leadIds: ids.slice(0, 8) }),
      w.svc.api('POST', '/v1/compose', { leadIds: ids.slice(8, 16) }),
      w.svc.api('POST', '/v1/compose', { leadIds: ids.slice(16) }),
    ]);
    for (const r of [a, b, c]) {
      expect(r.status).toBe(200);
      expect(r.body.failed).toEqual([]);
      expect(r.body.emails).toHaveLength(8);
    }
    expect(w.openai.state.rateLimited).toBe(0);
    expect(w.openai.state.completions).toBe(24);
  });

  test('the same lead composed by two calls at once gets one stored draft', async () => {
    const [id] = await lubeLeads(w, 'twice', 1);
    const [x, y] = await Promise.all([
      w.svc.api('POST', '/v1/compose', { leadIds: [id] }),
      w.svc.api('POST', '/v1/compose', { leadIds: [id] }),
    ]);
    expect(x.body.emails[0].text).toBe(y.body.emails[0].text);
    const later = await w.svc.api('POST', '/v1/compose', { leadIds: [id] });
    expect(later.body.emails[0]).toMatchObject({ generated: false, text: x.body.emails[0].text });
  });
});

describe('limiter configured far above the provider limit', () => {
  let w: ComposeWorld;
  beforeAll(async () => {
    w = await startComposeWorld({ env: { OPENAI_RPM: '60000', COMPOSE_CONCURRENCY: '8' }, openai: { rpm: 600, burst: 2 } });
  });
  afterAll(async () => w?.stop());

  test('it adapts to the x-ratelimit headers and retries the 429s: the caller sees none', async () => {
    const ids = await lubeLeads(w, 'q', 30);
    const r = await w.svc.api('POST', '/v1/compose', { leadIds: ids });
    expect(r.status).toBe(200);
    expect(r.body.failed).toEqual([]);
    expect(r.body.emails).toHaveLength(30);
    // Only the first wave of 8 (before any header was seen) should hit the limit; a little slack for timer jitter.
    expect(w.openai.state.rateLimited).toBeLessThanOrEqual(10);
    expect(w.svc.deps.openai.limiter.limits.rpm).toBe(600);
  });
});
