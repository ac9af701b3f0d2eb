// The status page's daily rollup (status_days) stays exact whatever writes the
// rows: concurrent reports (sent, failed, the same report twice), a dead letter
// retried and sent, concurrent events (the same one twice, a second reply to one
// send, an event about nobody of ours), a sender moved to another time zone.
// After every burst the rollup must equal a recount from the rows themselves, and
// each (sender, day) must equal what GET /v1/stats says for it, as must the
// status page's 30 days.
import { STATUS_PANELS } from '../../src/status/status-data';
import { importLeads, rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

jest.setTimeout(180_000);

let svc: TestService;
beforeAll(async () => {
  // one attempt: a transient failure is a dead letter at once
  svc = await startTestService({ COROFY_SEND_MAX_ATTEMPTS: '1' });
});
afterAll(() => stopService(svc));

type Counts = { sent: number; replies: number; bounces: number; complaints: number; unsubscribes: number };
const KINDS = ['sent', 'replies', 'bounces', 'complaints', 'unsubscribes'] as const;

/** What the rollup holds, keyed "sender/day/step" (rows all zero left out). */
async function rollup(): Promise<Record<string, Counts>> {
  const rows = await rawSql(svc)(
    `select sender_id || '/' || day || '/' || step as key, sent, replies, bounces, complaints, unsubscribes
       from status_days where sent + replies + bounces + complaints + unsubscribes > 0 order by 1`,
  );
  return Object.fromEntries(rows.map(({ key, ...c }: any) => [key, c]));
}

/** The same, counted from the sends and events themselves (the definition, written once more here). */
async function recount(): Promise<Record<string, Counts>> {
  const rows = await rawSql(svc)(
    `select sender_id || '/' || day || '/' || step as key, sum(sent)::int as sent, sum(replies)::int as replies,
            sum(bounces)::int as bounces, sum(complaints)::int as complaints, sum(unsubscribes)::int as unsubscribes
       from (select sender_id, day, step, 1 as sent, 0 as replies, 0 as bounces, 0 as complaints, 0 as unsubscribes
               from sends where status = 'sent'
             union all
             select e.sender_id, (e.received_at at time zone s.timezone)::date, coalesce(m.step, 0), 0,
                    (e.kind = 'reply')::int, (e.kind = 'bounce')::int, (e.kind = 'complaint')::int, (e.kind = 'unsubscribe')::int
               from events e join senders s on s.id = e.sender_id left join sends m on m.id = e.send_id) t
      group by 1 order by 1`,
  );
  return Object.fromEntries(rows.map(({ key, ...c }: any) => [key, c]));
}

/** Every (sender, day) of the rollup against GET /v1/stats, and the page's 30 days against their sums. */
async function expectEqualsStats(): Promise<void> {
  const byDay = new Map<string, Counts>();
  const perSenderDay = new Map<string, Counts>();
  for (const [key, c] of Object.entries(await rollup())) {
    const [sender, day] = key.split('/') as [string, string];
    for (const [map, k] of [[perSenderDay, `${sender}/${day}`], [byDay, day]] as const) {
      const t = map.get(k) ?? { sent: 0, replies: 0, bounces: 0, complaints: 0, unsubscribes: 0 };
      for (const f of KINDS) t[f] += c[f];
      map.set(k, t);
    }
  }
  for (const [key, c] of perSenderDay) {
    const [sender, day] = key.split('/');
    const stats = (await svc.api('GET', `/v1/stats?sender=${sender}&day=${day}`)).body;
    expect([key, { sent: stats.sent, replies: stats.replied, bounces: stats.bounced, complaints: stats.complained, unsubscribes: stats.unsubscribed }])
      .toEqual([key, c]);
  }
  const history = await STATUS_PANELS.history(svc.deps.db, new Date());
  expect(history.days).toHaveLength(30);
  for (const d of history.days) {
    const c = byDay.get(d.day) ?? { sent: 0, replies: 0, bounces: 0, complaints: 0, unsubscribes: 0 };
    expect([d.day, { sent: d.sent, replies: d.replies, bounces: d.bounces, complaints: d.complaints, unsubscribes: d.unsubscribes }])
      .toEqual([d.day, c]);
  }
}

/** n sends of `sender`, due now and leased for sending (claim-due), each with the Message-ID it will be reported with. */
async function leasedSends(sender: string, n: number): Promise<{ sendId: string; messageId: string; email: string }[]> {
  const leadIds = await importLeads(svc, n, `${sender}-lead`, `${sender}.test`);
  const batch = await svc.api('POST', '/v1/batches/claim', { sender, size: n });
  expect(batch.body.leads).toHaveLength(n);
  const now = Date.now();
  const sends = await scheduleSends(svc, leadIds, new Date(now - 60_000), new Date(now + 3_600_000));
  const due = await svc.api('POST', '/v1/sends/claim-due', { sender, limit: n });
  expect(due.body.sends).toHaveLength(n);
  return sends.map((s: { sendId: string; to: string }) => ({ sendId: s.sendId, messageId: `<${s.sendId}@${sender}.corofy.test>`, email: s.to }));
}

test('the rollup equals a recount and GET /v1/stats through concurrent reports, retries, events and a time zone change', async () => {
  await svc.api('PUT', '/v1/senders/default', { dailyQuota: 100, timezone: 'America/Los_Angeles' });
  await svc.api('PUT', '/v1/senders/tokyo', { dailyQuota: 100, timezone: 'Asia/Tokyo' });
  const sends = { default: await leasedSends('default', 24), tokyo: await leasedSends('tokyo', 24) };
  const all = [...sends.default, ...sends.tokyo];

  // 12 concurrent reports of 4 sends each: 3 sent, 1 failed for good; each report sent twice
  const reports = [];
  for (let i = 0; i < all.length; i += 4) {
    const results = all.slice(i, i + 4).map((s, j) =>
      j < 3 ? { sendId: s.sendId, status: 'sent', messageId: s.messageId } : { sendId: s.sendId, status: 'failed', error: '421 try later' });
    reports.push({ results }, { results });
  }
  const answers = await Promise.all(reports.map((r) => svc.api('POST', '/v1/sends/report', r)));
  expect(answers.map((a) => a.status)).toEqual(reports.map(() => 200));
  expect(await rollup()).toEqual(await recount());
  expect(Object.values(await rollup()).reduce((a, c) => a + c.sent, 0)).toBe(36);

  // a dead letter retried, leased again and sent
  const dead = all[3]!;
  expect((await svc.api('POST', `/v1/sends/${dead.sendId}/retry`)).status).toBe(200);
  await rawSql(svc)('update sends set send_at = now() - interval \'1 minute\' where id = $1', [dead.sendId]);
  expect((await svc.api('POST', '/v1/sends/claim-due', { sender: 'default' })).body.sends).toHaveLength(1);
  await svc.api('POST', '/v1/sends/report', { results: [{ sendId: dead.sendId, status: 'sent', messageId: dead.messageId }] });

  // events, concurrently, received over the last days at hours where the two zones disagree on the date
  const kinds = ['reply', 'bounce', 'complaint', 'unsubscribe'] as const;
  const sent = all.filter((_, i) => i % 4 !== 3);
  const events = sent.map((s, i) => ({
    kind: kinds[i % 4]!,
    inReplyTo: s.messageId,
    receivedAt: new Date(Date.now() - i * 5 * 3_600_000).toISOString(),
    subject: 'Re: Hello',
    text: 'Thanks',
  }));
  const more = [
    { ...events[0]!, receivedAt: new Date(Date.now() - 3_600_000).toISOString(), text: 'And one more thing' }, // a second reply to one send
    events[1]!, // the same bounce again: recorded once
    { kind: 'reply' as const, email: 'stranger@nowhere.test', text: 'Who are you?' }, // no lead of ours: counts for nobody
    { kind: 'unsubscribe' as const, email: sends.tokyo[23]!.email }, // matched by address to a lead whose send failed: step 0
  ];
  const recorded = await Promise.all([...events, ...more].map((e) => svc.api('POST', '/v1/events', e)));
  expect(recorded.map((r) => r.status)).toEqual([...events, ...more].map(() => 200));
  expect(recorded[events.length + 1]!.body.duplicate).toBe(true);
  expect(await rollup()).toEqual(await recount());
  const total = Object.values(await rollup()).reduce(
    (a, c) => ({ sent: a.sent + c.sent, events: a.events + c.replies + c.bounces + c.complaints + c.unsubscribes }), { sent: 0, events: 0 });
  expect(total).toEqual({ sent: 37, events: events.length + 2 });
  expect(Object.keys(await rollup()).some((k) => k.startsWith('tokyo/') && k.endsWith('/0'))).toBe(true);
  await expectEqualsStats();

  // Tokyo's sender moves 23 hours west: its events fall on other local days, as GET /v1/stats now counts them
  const before = await rollup();
  await svc.api('PUT', '/v1/senders/tokyo', { timezone: 'Pacific/Pago_Pago' });
  const after = await rollup();
  expect(after).not.toEqual(before);
  expect(after).toEqual(await recount());
  await expectEqualsStats();
});
