// Mailbox health: a burst of hard bounces (or two complaints in a day) pauses
// the mailbox in the transaction of the event that crossed the line; its
// scheduled first emails move to the pool's other mailboxes; a
// mailbox_paused event goes out through the webhooks outbox; a paused mailbox
// sends nothing (claim, gate, due sends) until a person resumes it.
import { rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

const everyDay = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' };
const minutes = (n: number) => new Date(Date.now() + n * 60_000);

interface Lead { id: string; email: string; sender: string }

/** A pool of two mailboxes, 10 leads each claimed; `sent` of h1's sent now, the rest scheduled in an hour. */
async function poolWithSends(pool: string, a: string, b: string, sentPerMailbox: number) {
  for (const id of [a, b]) {
    await svc.api('PUT', `/v1/senders/${id}`, { dailyQuota: 10, timezone: 'UTC', window: everyDay, fromEmail: `${id}@corofy.test` });
  }
  await svc.api('PUT', `/v1/pools/${pool}`, { dailyTarget: 20, members: [a, b] });
  await svc.api('POST', '/v1/leads/import', {
    leads: Array.from({ length: 20 }, (_, i) => ({ email: `${pool}${i}@lead${i}.test` })),
  });
  const claim = await svc.api('POST', `/v1/pools/${pool}/claim`, {});
  const leads = claim.body.leads as Lead[];
  const of = (s: string) => leads.filter((l) => l.sender === s);
  expect(of(a)).toHaveLength(10);
  const sent: Record<string, Lead[]> = {};
  for (const s of [a, b]) {
    const now = of(s).slice(0, sentPerMailbox);
    const later = of(s).slice(sentPerMailbox);
    const due = await scheduleSends(svc, now.map((l) => l.id), minutes(-1), minutes(120));
    await scheduleSends(svc, later.map((l) => l.id), minutes(60), minutes(180));
    const claimed = await svc.api('POST', '/v1/sends/claim-due', { sender: s });
    expect(claimed.body.sends).toHaveLength(due.length);
    const report = await svc.api('POST', '/v1/sends/report', {
      results: claimed.body.sends.map((x: { sendId: string }) => ({ sendId: x.sendId, status: 'sent', messageId: `<${x.sendId}@m.test>` })),
    });
    expect(report.status).toBe(200);
    sent[s] = now;
  }
  return { sent, leads };
}

test('more than 3 % hard bounces of the last 200 sends pause the mailbox; its scheduled sends move to the other mailbox; an event fires', async () => {
  const hook = await svc.api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['mailbox_paused'] });
  expect(hook.status).toBe(201);
  const { sent } = await poolWithSends('hp', 'h1', 'h2', 8);

  // 6 hard bounces are 3 % of 200: not yet
  for (const lead of sent.h1!.slice(0, 6)) {
    expect((await svc.api('POST', '/v1/events', { kind: 'bounce', email: lead.email })).status).toBe(200);
  }
  let h1 = (await svc.api('GET', '/v1/senders/h1')).body;
  expect(h1.health).toMatchObject({ status: 'ok', paused: null, hardBounces: { count: 6, ofLastSends: 8, window: 200, pauseAbove: 6 } });

  // the 7th pauses it, in the event's own transaction
  await svc.api('POST', '/v1/events', { kind: 'bounce', email: sent.h1![6]!.email });
  h1 = (await svc.api('GET', '/v1/senders/h1')).body;
  expect(h1.health).toMatchObject({ status: 'paused', paused: { code: 'hard_bounces' }, hardBounces: { count: 7 } });
  expect(h1.health.paused.reason).toContain('7 hard bounces in the last 8 sends');
  expect(h1.paused).toMatchObject({ code: 'hard_bounces' });

  const sends = await rawSql(svc)(
    `select sender_id, count(*)::int as n from sends where status = 'scheduled' group by 1 order by 1`);
  const ledger = await rawSql(svc)(`select sender_id, quota, claimed, scheduled, sent from sender_days where sender_id in ('h1','h2') order by 1`);
  // h2's day is full (10 of 10), so h1's scheduled sends wait for the resume
  expect(sends).toEqual([{ sender_id: 'h1', n: 2 }, { sender_id: 'h2', n: 2 }]);
  expect(ledger.map((r: { scheduled: number; sent: number }) => r.scheduled + r.sent)).toEqual([10, 10]);

  // the outbox holds the event for the Corofy Trigger
  const events = await rawSql(svc)(`select payload from webhook_deliveries where event_type = 'mailbox_paused'`);
  expect(events).toHaveLength(1);
  expect(events[0].payload.data).toMatchObject({ sender: 'h1', code: 'hard_bounces', movedSends: 0, waitingSends: 2 });

  // paused: nothing is handed out for h1 — due sends, the gate, the pool's claim
  await rawSql(svc)(`update sends set send_at = now() - interval '1 minute' where sender_id = 'h1' and status = 'scheduled'`);
  expect((await svc.api('POST', '/v1/sends/claim-due', { sender: 'h1' })).body.sends).toEqual([]);
  expect((await svc.api('POST', '/v1/sends/claim-due', {})).body.sends.filter((s: { sender: string }) => s.sender === 'h1')).toEqual([]);
  const pool = (await svc.api('GET', '/v1/pools/hp')).body;
  expect(pool.members.find((m: { sender: string }) => m.sender === 'h1')).toMatchObject({ roomToday: 0, closedReason: 'paused' });

  // a person resumes it: it sends again, and its health counts afresh
  const resumed = await svc.api('POST', '/v1/senders/h1/resume');
  expect(resumed.body.health).toMatchObject({ status: 'ok', paused: null, hardBounces: { count: 0, ofLastSends: 0 } });
  expect(resumed.body.health.since).not.toBeNull();
  expect((await svc.api('POST', '/v1/sends/claim-due', { sender: 'h1' })).body.sends).toHaveLength(2);
});

test("a paused pool mailbox's scheduled first emails move to a mailbox with room, on that mailbox's ledger", async () => {
  const { leads } = await poolWithSends('mp', 'm1', 'm2', 8);
  // m2 gets room: a higher quota
  await svc.api('PUT', '/v1/senders/m2', { dailyQuota: 20 });
  await rawSql(svc)(`select pause_mailbox('m1', 'smtp_auth_failed', 'the server refused the login')`);
  const moved = await rawSql(svc)(`select lead_id::text, sender_id from sends where status = 'scheduled' order by lead_id`);
  const m1Later = leads.filter((l) => l.sender === 'm1').slice(8).map((l) => l.id);
  expect(moved.filter((r: { lead_id: string }) => m1Later.includes(r.lead_id)).map((r: { sender_id: string }) => r.sender_id))
    .toEqual(['m2', 'm2']);
  const days = await rawSql(svc)(`select sender_id, scheduled from sender_days where sender_id in ('m1','m2') order by 1`);
  expect(days).toEqual([{ sender_id: 'm1', scheduled: 0 }, { sender_id: 'm2', scheduled: 4 }]);
  const h = (await svc.api('GET', '/v1/senders/m1')).body.health;
  expect(h).toMatchObject({ status: 'paused', paused: { code: 'smtp_auth_failed' } });
});

test('two complaints within a day pause the mailbox; a hard bounce at the SMTP dialogue counts too', async () => {
  const { sent } = await poolWithSends('cp', 'c1', 'c2', 8);
  await svc.api('POST', '/v1/events', { kind: 'complaint', email: sent.c1![0]!.email });
  expect((await svc.api('GET', '/v1/senders/c1')).body.health).toMatchObject({ status: 'ok', complaints: { last24h: 1, pauseAt: 2 } });
  await svc.api('POST', '/v1/events', { kind: 'complaint', email: sent.c1![1]!.email });
  expect((await svc.api('GET', '/v1/senders/c1')).body.health).toMatchObject({ status: 'paused', paused: { code: 'complaints' } });
  // the gate gives nothing for a paused mailbox
  const gate = await svc.api('POST', '/v1/gate', { sender: 'c1', leadIds: [sent.c1![2]!.id] });
  expect(gate.status).toBe(200);
  expect(gate.body.sendNow).toEqual([]);

  // c2: seven permanent failures reported by n8n (550 5.1.1 user unknown) pause it; c1 being paused,
  // the pool's next claim goes to c2 alone
  await svc.api('PUT', '/v1/senders/c2', { dailyQuota: 20 });
  await svc.api('PUT', '/v1/pools/cp', { dailyTarget: 27 });
  await svc.api('POST', '/v1/leads/import', { leads: Array.from({ length: 7 }, (_, i) => ({ email: `smtpbounce${i}@x${i}.test` })) });
  const more = await svc.api('POST', '/v1/pools/cp/claim', {});
  const mine = more.body.leads as Lead[];
  expect(mine.map((l) => l.sender)).toEqual(Array(7).fill('c2'));
  await scheduleSends(svc, mine.map((l) => l.id), minutes(-1), minutes(120));
  const leased = await svc.api('POST', '/v1/sends/claim-due', { sender: 'c2' });
  const bounces = leased.body.sends.filter((s: { leadId: string }) => mine.some((l) => l.id === s.leadId));
  expect(bounces).toHaveLength(7);
  await svc.api('POST', '/v1/sends/report', {
    results: bounces.map((s: { sendId: string }) => ({ sendId: s.sendId, status: 'failed', permanent: true, error: '550 5.1.1 user unknown' })),
  });
  expect((await svc.api('GET', '/v1/senders/c2')).body.health).toMatchObject({ status: 'paused', paused: { code: 'hard_bounces' } });
});
