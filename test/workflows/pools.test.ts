// The shipped daily pipeline run for a pool of three mailboxes (one new, so
// ramped) by n8n-core's execution engine with our nodes, against a real Corofy
// service: the day's target is spread by the room each mailbox has, every
// email goes out from its lead's mailbox, and a burst of hard bounces pauses
// one mailbox while the others carry on.
import type { IDataObject } from 'n8n-workflow';
import { startFakeOpenAI, type FakeOpenAI } from '../../sandbox/fake-openai';
import { startTestService, TEST_API_KEY, type TestService } from '../../service/test/support/test-service';
import { Outbox, readWorkflow, runWorkflow } from './support/workflow-runner';
import { ALL_DAYS_WINDOW, zonesByWindow } from './support/zones';

let svc: TestService;
let openai: FakeOpenAI;
const outbox = new Outbox();
const { inside, senderZone } = zonesByWindow();
const tag = Date.now().toString(36);

// The pipeline as the README says to set it for a pool: Claim For: Pool
const shipped = readWorkflow('daily-pipeline.json');
const pooled = {
  ...shipped,
  nodes: shipped.nodes.map((n) =>
    n.name === 'Claim Daily Batch' ? { ...n, parameters: { ...n.parameters, claimFor: 'pool', pool: 'team' } } : n,
  ),
};
const run = () => runWorkflow(pooled, { baseUrl: svc.url, apiKey: TEST_API_KEY, outbox, startNode: 'Claim Daily Batch', startItem: {} });

const MAILBOXES = {
  alpha: { dailyQuota: 10 },
  bravo: { dailyQuota: 10 },
  // new: 4 today (and more each sending day)
  fresh: { dailyQuota: 40, rampUp: { start: 4, step: 4, cap: 40 } },
} as const;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  svc = await startTestService({
    OPENAI_API_KEY: 'sk-test-pools',
    OPENAI_BASE_URL: openai.baseUrl,
    COROFY_PUBLIC_URL: 'https://corofy.test',
  });
  for (const [id, settings] of Object.entries(MAILBOXES)) {
    const put = await svc.api('PUT', `/v1/senders/${id}`, {
      ...settings,
      timezone: senderZone,
      ...ALL_DAYS_WINDOW,
      fromName: `${id[0]!.toUpperCase()}${id.slice(1)} Seller`,
      fromEmail: `${id}@seller.example`,
      postalAddress: '1 Harbour Road, Rotterdam, NL',
    });
    expect(put.status).toBe(200);
  }
  expect((await svc.api('PUT', '/v1/pools/team', { dailyTarget: 20, members: Object.keys(MAILBOXES) })).status).toBe(200);
  const leads = Array.from({ length: 40 }, (_, i) => ({
    email: `p${i}-${tag}@buyer${i}.example`,
    firstName: `Pat${i}`,
    companyName: `Buyer ${i}`,
    industry: 'lubricants',
    timezone: inside[i % inside.length]!,
  }));
  expect((await svc.api('POST', '/v1/leads/import', { leads })).body.imported).toBe(40);
}, 240_000);

afterAll(async () => {
  await svc?.stop();
  await openai?.close();
});

const countBy = (items: IDataObject[], key: (i: IDataObject) => string) =>
  items.reduce<Record<string, number>>((acc, i) => ({ ...acc, [key(i)]: (acc[key(i)] ?? 0) + 1 }), {});

test("one run for the whole pool: the target spread by each mailbox's room, every email from its lead's mailbox", async () => {
  const first = await run();
  // target 20 over rooms 10, 10, 4 (24): 8.33, 8.33, 3.33 → 8, 8, 3 and the one left to the first in id order
  const claimed = first.output('Claim Daily Batch');
  expect(countBy(claimed, (l) => String(l.sender))).toEqual({ alpha: 9, bravo: 8, fresh: 3 });
  for (const lead of claimed) {
    expect(lead.from).toEqual({ name: expect.stringContaining('Seller'), email: `${String(lead.sender)}@seller.example` });
  }
  // composed in each mailbox's name and sent now (every recipient is inside business hours)
  const sentNow = first.output('Timezone Gate', 0);
  expect(sentNow).toHaveLength(20);
  for (const item of sentNow) expect(item.sender).toBe(claimed.find((l) => l.leadId === item.leadId)!.sender);
  const byFrom = countBy(outbox.sent as unknown as IDataObject[], (m) => String(m.from));
  expect(byFrom).toEqual({
    'Alpha Seller <alpha@seller.example>': 9,
    'Bravo Seller <bravo@seller.example>': 8,
    'Fresh Seller <fresh@seller.example>': 3,
  });
  for (const mail of outbox.sent) {
    const lead = claimed.find((l) => l.email === mail.to)!;
    expect(mail.from).toContain(`<${String(lead.sender)}@seller.example>`);
  }
  const stats = (await svc.api('GET', '/v1/stats?pool=team')).body;
  expect(stats.pool).toEqual({ id: 'team', dailyTarget: 20, usedToday: 20, remainingToday: 0 });
  expect(stats.mailboxes.map((m: { sender: string; quota: number; sent: number }) => [m.sender, m.quota, m.sent])).toEqual([
    ['alpha', 10, 9], ['bravo', 10, 8], ['fresh', 4, 3],
  ]);
}, 120_000);

test('a burst of hard bounces pauses one mailbox; the next run sends from the others', async () => {
  // seven of alpha's recipients bounce hard (more than 3 % of 200 sends)
  const alphaTo = outbox.sent.filter((m) => m.from.includes('alpha@')).map((m) => m.to);
  for (const email of alphaTo.slice(0, 7)) {
    expect((await svc.api('POST', '/v1/events', { kind: 'bounce', email })).status).toBe(200);
  }
  const alpha = (await svc.api('GET', '/v1/senders/alpha')).body;
  expect(alpha.health).toMatchObject({ status: 'paused', paused: { code: 'hard_bounces' }, hardBounces: { count: 7 } });

  // the pool's target goes up: only bravo and fresh have room (bravo 2, fresh 1)
  await svc.api('PUT', '/v1/pools/team', { dailyTarget: 30 });
  const before = outbox.sent.length;
  const second = await run();
  const claimed = second.output('Claim Daily Batch');
  expect(countBy(claimed, (l) => String(l.sender))).toEqual({ bravo: 2, fresh: 1 });
  const mails = outbox.sent.slice(before);
  expect(mails.map((m) => m.from).sort()).toEqual([
    'Bravo Seller <bravo@seller.example>',
    'Bravo Seller <bravo@seller.example>',
    'Fresh Seller <fresh@seller.example>',
  ]);
}, 120_000);
