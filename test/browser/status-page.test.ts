// The status page in a real browser (Debian's Chromium driven by playwright-core)
// against the real service with data made through the API: what a user sees must
// be what the API reports. Screenshots of every panel go to test/artifacts/.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runSweep } from '../../service/src/sweeper/sweeper';
import { importLeads, rawSql, scheduleSends, stopService } from '../../service/test/support/sends-fixture';
import { startTestService, TEST_API_KEY, type TestService } from '../../service/test/support/test-service';

const ARTIFACTS = path.join(__dirname, '..', 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

jest.setTimeout(180_000);

let svc: TestService;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
let sends: { dead: string; review: string; sent: string[]; later: string[] };

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // one attempt: a transient failure is a dead letter at once
  svc = await startTestService({ COROFY_SEND_MAX_ATTEMPTS: '1' });
  await svc.api('PUT', '/v1/senders/default', { dailyQuota: 20, fromName: 'Ada Sender', fromEmail: 'ada@corofy.test', postalAddress: '1 Main St, Springfield' });
  const leadIds = await importLeads(svc, 7, 'buyer', 'acme.test');
  await svc.api('POST', '/v1/batches/claim', { size: 7 });
  const now = Date.now();
  const due = await scheduleSends(svc, leadIds.slice(0, 4), new Date(now - 60_000), new Date(now + 3_600_000));
  const later = await scheduleSends(svc, leadIds.slice(4), new Date(now + 3 * 3_600_000), new Date(now + 5 * 3_600_000));
  await svc.api('POST', '/v1/sends/claim-due', {});
  const [a, b, dead, review] = due.map((s: { sendId: string }) => s.sendId) as [string, string, string, string];
  await svc.api('POST', '/v1/sends/report', {
    results: [
      { sendId: a, status: 'sent', messageId: '<a@mail.corofy.test>' },
      { sendId: b, status: 'sent', messageId: '<b@mail.corofy.test>' },
      { sendId: dead, status: 'failed', error: '421 4.7.0 try again later' },
    ],
  });
  // the fourth never reports: its lease runs out and the sweeper marks it needs_review
  await rawSql(svc)("update sends set lease_expires_at = now() - interval '1 second' where id = $1", [review]);
  await runSweep(svc.deps, new Date());
  await svc.api('POST', '/v1/events', { kind: 'reply', inReplyTo: '<a@mail.corofy.test>', subject: 'Re: hello', text: 'Sounds interesting, can we talk on Tuesday?' });
  sends = { dead, review, sent: [a, b], later: later.map((s: { sendId: string }) => s.sendId) };

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  await stopService(svc);
});

const text = async (selector: string) => (await page.locator(selector).innerText()).trim();
const num = async (selector: string) => Number((await text(selector)).replace(/,/g, ''));

test('a wrong key is refused: the sign-in form again with the reason, and no cookie', async () => {
  await page.goto(svc.url);
  await page.getByLabel('API key').waitFor({ state: 'visible' });
  await page.getByLabel('API key').fill('wrong-key-0123456789abcdef');
  await page.getByRole('button', { name: 'Sign in' }).click();
  expect(await text('[role=alert]')).toBe("That is not this service's API key.");
  expect(await page.context().cookies()).toEqual([]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'status-sign-in-refused.png') });
});

test('signing in with the key shows the panels; the session cookie is HttpOnly and scripts cannot read it', async () => {
  pageErrors.length = 0; // the refused sign-in's 401 was meant
  await page.getByLabel('API key').fill(TEST_API_KEY);
  await page.getByLabel('API key').press('Enter'); // the keyboard is enough
  await page.waitForSelector('#mailboxes');
  expect(page.url()).toBe(`${svc.url}/`);
  expect(await page.evaluate(() => document.cookie)).toBe('');
  const [cookie] = await page.context().cookies();
  expect(cookie).toMatchObject({ name: 'corofy_session', httpOnly: true, sameSite: 'Strict' });
  expect(cookie!.value).not.toContain(TEST_API_KEY);
  expect(await page.content()).not.toContain(TEST_API_KEY);
});

test('every panel shows the numbers the API reports', async () => {
  const stats = (await svc.api('GET', '/v1/stats')).body;
  const row = '#mailboxes tr[data-sender="default"]';
  expect(await num(`${row} [data-field=quota]`)).toBe(stats.quota);
  expect(await num(`${row} [data-field=used]`)).toBe(stats.used);
  expect(await num(`${row} [data-field=remaining]`)).toBe(stats.remaining);
  expect(await num('#mailboxes tfoot [data-field=remaining]')).toBe(stats.remaining);

  for (const [tile, value] of [
    ['claimed', stats.batchedLeads], ['sent', stats.sent], ['scheduled', stats.scheduled], ['failed', stats.failed],
    ['cancelled', stats.cancelled], ['replied', stats.replied], ['bounced', stats.bounced],
  ] as const) {
    expect([tile, await num(`#funnel [data-stat=${tile}] .value`)]).toEqual([tile, value]);
  }
  expect(stats).toMatchObject({ sent: 2, replied: 1, dead: 1, needsReview: 1 });

  const dead = (await svc.api('GET', '/v1/sends?status=dead')).body.sends;
  const review = (await svc.api('GET', '/v1/sends?status=needs_review')).body.sends;
  expect(await page.locator('#dead-letters tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-send'))))
    .toEqual(dead.map((s: { sendId: string }) => s.sendId));
  expect(await page.locator('#needs-review tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-send'))))
    .toEqual(review.map((s: { sendId: string }) => s.sendId));
  expect(await text(`#dead-letters tr[data-send="${sends.dead}"] .reason`)).toBe('421 4.7.0 try again later');

  const waiting = [...(await svc.api('GET', '/v1/sends?status=scheduled')).body.sends]
    .filter((s: { sendAt: string }) => Date.parse(s.sendAt) < Date.now() + 24 * 3_600_000).length;
  expect(await text('#queue [data-field=queue-total]')).toMatch(new RegExp(`^${waiting} emails? waiting`));
  expect(waiting).toBe(3);

  expect(await text('#events tr[data-kind=reply]')).toContain('Sounds interesting, can we talk on Tuesday?');
  expect(await num('#history tr[data-step="1"] td:nth-child(2)')).toBe(2);
  expect(await num('#history tr[data-step="1"] td:nth-child(3)')).toBe(1);

  // the charts are drawn by the served uPlot under the page's CSP (no inline script)
  for (const chart of ['#queue-chart', '#history-chart', '#credits-chart']) {
    await page.locator(`${chart} canvas`).waitFor();
  }
  expect(pageErrors).toEqual([]);

  await page.screenshot({ path: path.join(ARTIFACTS, 'status-page.png'), fullPage: true });
  for (const panel of ['mailboxes', 'funnel', 'queue', 'needs-review', 'dead-letters', 'events', 'history']) {
    await page.locator(`#${panel}`).screenshot({ path: path.join(ARTIFACTS, `status-${panel}.png`) });
  }
});

test('Retry moves a dead letter back to the queue', async () => {
  await page.getByRole('button', { name: `Retry send ${sends.dead}` }).click();
  await page.waitForURL(/done=|error=/);
  expect(await text('[role=status]')).toBe(`Send #${sends.dead} is back in the queue.`);
  expect(await page.locator(`#dead-letters tr[data-send="${sends.dead}"]`).count()).toBe(0);
  const send = (await svc.api('GET', `/v1/sends?leadId=${(await rawSql(svc)('select lead_id::text as id from sends where id = $1', [sends.dead]))[0].id}`)).body.sends[0];
  expect(send).toMatchObject({ sendId: sends.dead, status: 'scheduled' });
  expect((await svc.api('GET', '/v1/sends?status=dead')).body.sends).toEqual([]);
  await page.screenshot({ path: path.join(ARTIFACTS, 'status-after-retry.png') });
});

test('signing out ends the session', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor({ state: 'visible' });
  expect(await page.context().cookies()).toEqual([]);
});

test('/docs renders the API with Swagger UI served by the service (no CDN reached)', async () => {
  const docs = await browser.newPage();
  const outside: string[] = [];
  docs.on('request', (r) => !r.url().startsWith(svc.url) && !r.url().startsWith('data:') && outside.push(r.url()));
  await docs.goto(`${svc.url}/docs`);
  await docs.locator('.swagger-ui .info .title').waitFor();
  expect(await docs.locator('.swagger-ui .info .title').innerText()).toContain('Corofy API');
  await docs.locator('.opblock-summary-path[data-path="/v1/sends/{id}/discard"]').waitFor();
  expect(outside).toEqual([]);
  await docs.screenshot({ path: path.join(ARTIFACTS, 'docs.png') });
  await docs.close();
});
