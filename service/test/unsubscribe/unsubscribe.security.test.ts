import { unsubscribeFooter } from '../../src/unsubscribe/footer';
import { unsubscribeToken } from '../../src/unsubscribe/unsubscribe-token';
import { importLeads, rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestService, type TestService } from '../support/test-service';

let database: TestDatabase;
let svc: TestService | undefined;
beforeAll(async () => {
  database = await createTestDatabase();
  svc = await startTestService({}, database);
});
afterAll(async () => {
  await stopService(svc);
  await database?.drop();
});

const MIN = 60_000;

async function leasedSend(prefix: string) {
  const [id] = await importLeads(svc!, 2, prefix);
  await svc!.api('POST', '/v1/batches/claim', { size: 2 });
  const now = Date.now();
  await scheduleSends(svc!, [id!], new Date(now - MIN), new Date(now + 600 * MIN));
  const [send] = (await svc!.api('POST', '/v1/sends/claim-due', {})).body.sends;
  return send as { leadId: string; sendId: string; to: string; unsubscribeUrl: string };
}

test('the link shows a confirm page; one-click POST unsubscribes, suppresses and is idempotent', async () => {
  const send = await leasedSend('unsub');
  const page = await fetch(send.unsubscribeUrl);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  const html = await page.text();
  expect(html).toContain('<form method="post"');
  // a GET (mail scanners follow links) changes nothing
  expect((await svc!.api('GET', `/v1/leads/${send.leadId}`)).body.status).toBe('sending');

  const oneClick = () =>
    fetch(send.unsubscribeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
  const r = await oneClick();
  expect(r.status).toBe(200);
  expect(await r.text()).toContain('unsubscribed');
  expect((await svc!.api('GET', `/v1/leads/${send.leadId}`)).body.status).toBe('unsubscribed');
  const sup = await svc!.api('GET', '/v1/suppressions');
  expect(sup.body.suppressions).toEqual([expect.objectContaining({ value: send.to, reason: 'unsubscribe' })]);
  expect((await oneClick()).status).toBe(200);
  const events = await rawSql(svc!)("select count(*)::int as n from events where kind = 'unsubscribe'");
  expect(events[0].n).toBe(1);
});

test('forged, altered or malformed tokens are 404 and change nothing', async () => {
  const send = await leasedSend('forge');
  const token = send.unsubscribeUrl.split('/unsubscribe/')[1]!;
  const [leadId, sig] = token.split('.');
  const otherLead = String(Number(leadId) + 1);
  const flipped = sig!.slice(0, -1) + (sig!.endsWith('A') ? 'B' : 'A');
  const forgeries = [
    `${otherLead}.${sig}`,
    `${leadId}.${flipped}`,
    unsubscribeToken('not-the-secret-at-all-0123456789', otherLead),
    'garbage',
    `${leadId}`,
    `${leadId}.${sig}.extra`,
  ];
  for (const t of forgeries) {
    const get = await fetch(`${svc!.url}/unsubscribe/${encodeURIComponent(t)}`);
    expect(get.status).toBe(404);
    const post = await fetch(`${svc!.url}/unsubscribe/${encodeURIComponent(t)}`, { method: 'POST', body: 'List-Unsubscribe=One-Click' });
    expect(post.status).toBe(404);
  }
  expect((await svc!.api('GET', '/v1/suppressions')).body.suppressions.map((s: { value: string }) => s.value)).not.toContain(
    send.to,
  );
  expect((await svc!.api('GET', `/v1/leads/${otherLead}`)).body.status).not.toBe('unsubscribed');
});

test('the generated secret is kept in the database: links survive a restart; the footer carries link and postal address', async () => {
  const send = await leasedSend('restart');
  await stopService(svc);
  svc = await startTestService({}, database);
  expect((await fetch(send.unsubscribeUrl.replace(/^http:\/\/[^/]+/, svc.url))).status).toBe(200);

  await svc.api('PUT', '/v1/senders/default', { fromName: 'Ada at Acme', postalAddress: '1 Main St, Springfield, IL 62701, USA' });
  const footer = await unsubscribeFooter(svc.deps, 'https://corofy.example', send.leadId, {
    fromName: 'Ada at Acme',
    postalAddress: '1 Main St, Springfield, IL 62701, USA',
  });
  expect(footer.unsubscribeUrl).toMatch(/^https:\/\/corofy\.example\/unsubscribe\/\d+\.[A-Za-z0-9_-]{43}$/);
  expect(footer.text).toContain(footer.unsubscribeUrl);
  expect(footer.text).toContain('1 Main St, Springfield');
  expect(footer.html).toContain(`href="${footer.unsubscribeUrl}"`);
  expect(footer.listUnsubscribe).toBe(`<${footer.unsubscribeUrl}>`);
  expect(footer.listUnsubscribePost).toBe('List-Unsubscribe=One-Click');
  // the footer's link works on this service
  const path = footer.unsubscribeUrl.replace('https://corofy.example', '');
  expect((await fetch(`${svc.url}${path}`)).status).toBe(200);
});
