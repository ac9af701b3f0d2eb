// /readyz's providers, the start-up line, /docs served without a CDN, and the
// Discard decision through the API.
import { importLeads, rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { runSweep } from '../../src/sweeper/sweeper';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
const logLines: any[] = [];
beforeAll(async () => {
  svc = await startTestService({ LOG_LEVEL: 'info', APOLLO_API_KEY: 'apollo-key-for-test', COROFY_SEND_MAX_ATTEMPTS: '1' }, undefined, {
    write: (line) => logLines.push(JSON.parse(line)),
  });
});
afterAll(() => stopService(svc));

test('/readyz says per provider whether it is configured, sandbox or missing, and start-up says the same once', async () => {
  const ready = await svc.api('GET', '/readyz', undefined, { authorization: '' });
  expect(ready.status).toBe(200);
  expect(ready.body.providers).toEqual({ apollo: 'configured', openai: 'missing', firecrawl: 'missing' });
  const line = logLines.filter((l) => l.providers);
  expect(line).toHaveLength(1);
  expect(line[0].providers).toEqual(ready.body.providers);
  expect(line[0].msg).toContain('apollo configured, openai missing, firecrawl missing');
  expect(line[0].msg).toContain('OPENAI_API_KEY');
  expect(JSON.stringify(logLines)).not.toContain('apollo-key-for-test');
  // the default sender has neither a from name nor a postal address
  const warning = logLines.find((l) => l.sender === 'default' && l.level === 40);
  expect(warning.missing).toEqual(['fromName', 'postalAddress']);
  const doc = await svc.api('GET', '/openapi.json');
  expect(Object.keys(doc.body.components.schemas.Ready.properties)).toContain('providers');
});

test('sandbox mode reports every provider as sandbox', async () => {
  const sandbox = await startTestService({ COROFY_SANDBOX: 'true' });
  try {
    expect((await sandbox.api('GET', '/readyz')).body.providers).toEqual({ apollo: 'sandbox', openai: 'sandbox', firecrawl: 'sandbox' });
  } finally {
    await sandbox.stop();
  }
});

test('/docs renders /openapi.json with Swagger UI whose files this service serves (no CDN)', async () => {
  const res = await fetch(`${svc.url}/docs`);
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain("url: '/openapi.json'");
  expect(html).not.toMatch(/https?:\/\//);
  const scripts = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  expect(scripts).toEqual(expect.arrayContaining(['/docs/assets/swagger-ui-dist/swagger-ui-bundle.js', '/docs/assets/swagger-ui-dist/swagger-ui.css']));
  for (const s of scripts) {
    const asset = await fetch(`${svc.url}${s}`);
    expect(asset.status).toBe(200);
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
  }
  expect((await fetch(`${svc.url}/docs/assets/swagger-ui-dist/package.json`)).status).toBe(404);
});

test('Discard: a dead send becomes cancelled and its lead skipped; a needs_review one gives its quota slot back; anything else is 409 and unchanged', async () => {
  await svc.api('PUT', '/v1/senders/default', { dailyQuota: 10 });
  const leadIds = await importLeads(svc, 3, 'discard');
  await svc.api('POST', '/v1/batches/claim', { size: 3 });
  const now = Date.now();
  const sends = await scheduleSends(svc, leadIds, new Date(now - 60_000), new Date(now + 3_600_000));
  await svc.api('POST', '/v1/sends/claim-due', {});
  const [dead, review, sending] = sends.map((s: { sendId: string }) => s.sendId) as [string, string, string];
  await svc.api('POST', '/v1/sends/report', { results: [{ sendId: dead, status: 'failed', error: '421 4.7.0 try again later' }] });
  // the review send's lease runs out with no outcome reported (the sweeper's real path); the other is still in its lease
  await rawSql(svc)("update sends set lease_expires_at = now() - interval '1 second' where id = $1", [review]);
  expect((await runSweep(svc.deps, new Date())).needsReview).toBe(1);
  const before = (await svc.api('GET', '/v1/stats')).body;

  const d = await svc.api('POST', `/v1/sends/${dead}/discard`);
  expect(d.status).toBe(200);
  expect(d.body).toMatchObject({ sendId: dead, status: 'cancelled' });
  expect(d.body.lastError).toContain('discarded by an operator');
  expect((await svc.api('GET', `/v1/leads/${d.body.leadId}`)).body.status).toBe('skipped');

  const r = await svc.api('POST', `/v1/sends/${review}/discard`);
  expect(r.body.status).toBe('cancelled');
  const after = (await svc.api('GET', '/v1/stats')).body;
  expect(after.remaining).toBe(before.remaining + 1);
  expect(after.cancelled).toBe(before.cancelled + 2);

  const no = await svc.api('POST', `/v1/sends/${sending}/discard`);
  expect(no.status).toBe(409);
  expect(no.body.code).toBe('send_not_discardable');
  expect((await svc.api('POST', `/v1/sends/${dead}/retry`)).status).toBe(409);
  expect((await svc.api('POST', '/v1/sends/999999/discard')).body.code).toBe('send_not_found');
  expect((await svc.api('POST', '/v1/sends/abc/discard')).status).toBe(400);
});
