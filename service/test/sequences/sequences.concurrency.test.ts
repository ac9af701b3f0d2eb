// The sequence invariants, attacked through the real functions: the sender-day
// quota stays exact with follow-ups and new leads mixed under 32 concurrent
// claims (property test), a follow-up is never handed out before the step
// before it was sent and its delay passed, never twice (concurrent claims and
// gates, a gate sent again), never after the lead stopped; and a reply that
// arrives while a follow-up is out leaves that send alone and cancels the rest.
import fc from 'fast-check';
import { gateAt } from '../gate/gate-fixture';
import { rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
let sql: ReturnType<typeof rawSql>;
beforeAll(async () => {
  svc = await startTestService({ COROFY_SANDBOX: 'true' });
  sql = rawSql(svc);
});
afterAll(() => stopService(svc));

// Monday 2026-12-07; the default window is Mon-Fri 09:00-17:00, leads and senders in UTC
const MONDAY_10 = new Date('2026-12-07T10:00:00Z');
const TUESDAY_10 = new Date('2026-12-08T10:00:00Z');
const WEDNESDAY_10 = new Date('2026-12-09T10:00:00Z');
const THURSDAY_10 = new Date('2026-12-10T10:00:00Z');
const THURSDAY_START = Date.parse('2026-12-10T00:00:00Z'); // 3 business days after Monday
const NEXT_MONDAY_10 = new Date('2026-12-14T10:00:00Z');

let uniq = 0;
const clockAt = (at: Date) => svc.deps.config.clock.set(at);

async function newSender(quota: number): Promise<string> {
  const id = `seq-${++uniq}-${Date.now() % 100000}`;
  const r = await svc.api('PUT', `/v1/senders/${id}`, { dailyQuota: quota, timezone: 'UTC' });
  expect(r.status).toBe(200);
  return id;
}

async function importLeads(n: number, domain = `co${++uniq}.example`): Promise<string[]> {
  if (n === 0) return [];
  const leads = Array.from({ length: n }, (_, i) => ({
    email: `p${i}-${++uniq}@${domain}`, firstName: `P${i}`, companyDomain: domain, timezone: 'UTC',
  }));
  const r = await svc.api('POST', '/v1/leads/import', { leads });
  expect(r.status).toBe(200);
  return r.body.leadIds;
}

async function claim(sender: string, size: number, at: Date): Promise<any> {
  clockAt(at);
  const r = await svc.api('POST', '/v1/batches/claim', { sender, size });
  expect(r.status).toBe(200);
  return r.body;
}

/** A draft of the lead's current step and the status compose leaves (composed). */
async function composeCurrentStep(ids: string[]): Promise<void> {
  await sql(
    `insert into drafts (lead_id, step, subject, text, html, source)
     select id, step, case when step = 1 then 'Hello ' || id else 'Re: Hello ' || id end, 'Text ' || id, '<p>x</p>', 'generic'
       from leads where id = any($1::bigint[]) on conflict do nothing`,
    [ids],
  );
  await sql(`update leads set status = 'composed' where id = any($1::bigint[]) and status = 'claimed'`, [ids]);
}

async function reportSent(sends: any[], at: Date): Promise<void> {
  if (sends.length === 0) return;
  const r = await svc.deps.db.call<any>('report_sends', {
    p_results: sends.map((s) => ({ sendId: s.sendId, status: 'sent', messageId: `m${s.sendId}@seller.example` })),
    p_now: at,
  });
  expect(r.recorded).toBe(sends.length);
}

/** Leads of a sender that got step 1 on Monday 10:00 (their step 2 is due Thursday). */
async function step1SentOnMonday(sender: string, n: number, domain?: string): Promise<string[]> {
  // the queue may hold earlier tests' leads: claim until ours are in
  const ids = await importLeads(n, domain);
  if (n === 0) return ids;
  await sql(`update leads set status = 'skipped', status_reason = 'test' where status = 'new' and not (id = any($1::bigint[]))`, [ids]);
  const batch = await claim(sender, n, MONDAY_10);
  expect(batch.leads.map((l: any) => l.id)).toEqual(ids);
  await composeCurrentStep(ids);
  const gate = await gateAt(svc, ids, MONDAY_10, sender);
  expect(gate.sendNow).toHaveLength(n);
  await reportSent(gate.sendNow, MONDAY_10);
  return ids;
}

test('the sender-day quota stays exact with due follow-ups and new leads mixed under 32 concurrent claims; follow-ups go first', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 16 }),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 12 }),
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 32, maxLength: 32 }),
      async (quota, followUps, newLeads, sizes) => {
        const sender = await newSender(50);
        const waiting = await step1SentOnMonday(sender, followUps);
        await svc.api('PUT', `/v1/senders/${sender}`, { dailyQuota: quota });
        const fresh = await importLeads(newLeads);
        await sql(`update leads set status = 'skipped', status_reason = 'test' where status = 'new' and not (id = any($1::bigint[]))`, [fresh]);

        clockAt(THURSDAY_10);
        const answers = await Promise.all(sizes.map((size) => svc.api('POST', '/v1/batches/claim', { sender, size })));
        expect(answers.map((a) => a.status)).toEqual(sizes.map(() => 200));
        const items = answers.flatMap((a) => a.body.leads);
        const ids = items.map((l: any) => l.id);
        expect(new Set(ids).size).toBe(ids.length); // nobody twice
        const taken = items.filter((l: any) => l.step === 2).map((l: any) => l.id);
        const taken1 = items.filter((l: any) => l.step === 1).map((l: any) => l.id);
        expect(taken.every((id: string) => waiting.includes(id))).toBe(true);
        expect(taken1.every((id: string) => fresh.includes(id))).toBe(true);
        // exactly the quota (or all there is), follow-ups first
        expect(items.length).toBe(Math.min(quota, followUps + newLeads));
        expect(taken.length).toBe(Math.min(quota, followUps));
        const [day] = await sql(`select claimed, scheduled, sent, quota from sender_days where sender_id = $1 and day = '2026-12-10'`, [sender]);
        expect(day).toMatchObject({ claimed: items.length, scheduled: 0, sent: 0, quota });
        // new leads keep sequence order (invariant 3)
        expect(taken1).toEqual(fresh.slice(0, taken1.length));
      },
    ),
    { numRuns: 6 },
  );
});

test('a follow-up is never handed out before its delay, never twice under concurrent claims and gates, and a gate sent again answers the same', async () => {
  const sender = await newSender(100);
  const ids = await step1SentOnMonday(sender, 12);

  // Tuesday and Wednesday: not due, 16 claims at once take none of them
  for (const at of [TUESDAY_10, WEDNESDAY_10]) {
    clockAt(at);
    const early = await Promise.all(Array.from({ length: 16 }, () => svc.api('POST', '/v1/batches/claim', { sender, size: 3 })));
    expect(early.flatMap((a) => a.body.leads)).toEqual([]);
  }
  // a buggy caller composes step 2 of one lead on Wednesday anyway: the gate places it no earlier than Thursday
  const [forced] = ids;
  await sql(`update leads set step = 2, status = 'claimed' where id = $1`, [forced]);
  await composeCurrentStep([forced!]);
  const early = await gateAt(svc, [forced!], WEDNESDAY_10, sender);
  expect(early.sendNow).toEqual([]);
  expect(early.scheduled).toHaveLength(1);
  expect(Date.parse(early.scheduled[0].sendAt)).toBeGreaterThanOrEqual(THURSDAY_START);

  // Thursday: 16 claims and then 16 gates of everything at once
  clockAt(THURSDAY_10);
  const claims = await Promise.all(Array.from({ length: 16 }, () => svc.api('POST', '/v1/batches/claim', { sender, size: 2 })));
  const claimed = claims.flatMap((a) => a.body.leads.map((l: any) => l.id));
  expect(claimed.sort()).toEqual(ids.filter((id) => id !== forced).sort());
  await composeCurrentStep(claimed);
  const gates = await Promise.all(Array.from({ length: 16 }, () => gateAt(svc, ids, THURSDAY_10, sender)));
  const handedOut = gates.flatMap((g) => g.sendNow.map((s: any) => s.leadId));
  expect(new Set(handedOut).size).toBe(handedOut.length);
  const rows = await sql(
    `select lead_id::text, step, count(*)::int as n, min(send_at) as at from sends where lead_id = any($1::bigint[]) group by 1, 2`,
    [ids],
  );
  expect(rows.filter((r: any) => r.step === 2)).toHaveLength(ids.length);
  expect(rows.every((r: any) => r.n === 1)).toBe(true);
  expect(rows.filter((r: any) => r.step === 2).every((r: any) => new Date(r.at).getTime() >= THURSDAY_START)).toBe(true);

  // the same gate call again (its answer was lost): the same sends, no new one
  const again = await gateAt(svc, ids, THURSDAY_10, sender);
  expect(again.sendNow).toEqual([]);
  expect(again.alreadyGated.map((s: any) => s.leadId).sort()).toEqual([...ids].sort());
  const [{ n }] = await sql(`select count(*)::int as n from sends where lead_id = any($1::bigint[])`, [ids]);
  expect(n).toBe(ids.length * 2);
});

test('a reply while a follow-up is sending leaves that send alone (its outcome is recorded) and cancels everything after it', async () => {
  const sender = await newSender(100);
  const [out, waiting, queued] = await step1SentOnMonday(sender, 3, `replyco${++uniq}.example`);
  await svc.api('PUT', `/v1/senders/${sender}/sequence`, {
    steps: [{ delayBusinessDays: 0 }, { delayBusinessDays: 3 }, { delayBusinessDays: 1 }],
    stopForCompany: false,
  });

  const batch = await claim(sender, 10, THURSDAY_10);
  expect(batch.leads.map((l: any) => [l.id, l.step])).toEqual([[out, 2], [waiting, 2], [queued, 2]]);
  await composeCurrentStep([out!, waiting!, queued!]);
  // `out` is handed out now (sending); `waiting` is scheduled for Friday (18:00 is past the window)
  const now = await gateAt(svc, [out!], THURSDAY_10, sender);
  expect(now.sendNow.map((s: any) => s.leadId)).toEqual([out]);
  const later = await gateAt(svc, [waiting!], new Date('2026-12-10T18:00:00Z'), sender);
  expect(later.scheduled.map((s: any) => s.leadId)).toEqual([waiting]);

  // replies to step 1 arrive from both, and `queued` (claimed, composed, not gated) replies too
  for (const lead of [out, waiting, queued]) {
    const r = await svc.deps.db.call<any>('record_event', {
      p_event: { kind: 'reply', inReplyTo: `m${(await sql(`select id from sends where lead_id = $1 and step = 1`, [lead]))[0].id}@seller.example` },
      p_now: new Date('2026-12-10T10:05:00Z'),
    });
    expect(r).toMatchObject({ leadId: lead, status: 'replied', stoppedLeads: [] });
    expect(r.cancelledSends).toBe(lead === waiting ? 1 : 0);
  }
  const sends = await sql(`select lead_id::text, step, status from sends where lead_id = any($1::bigint[]) and step = 2 order by lead_id`, [[out, waiting, queued]]);
  expect(sends).toEqual([
    { lead_id: out, step: 2, status: 'sending' },
    { lead_id: waiting, step: 2, status: 'cancelled' },
  ]);
  // the send that was out reports its outcome: recorded; nothing comes after it
  await reportSent(now.sendNow, new Date('2026-12-10T10:06:00Z'));
  expect((await sql(`select status from sends where lead_id = $1 and step = 2`, [out]))[0].status).toBe('sent');
  expect((await sql(`select status from leads where id = any($1::bigint[]) order by id`, [[out, waiting, queued]])).map((r: any) => r.status)).toEqual([
    'replied', 'replied', 'replied',
  ]);
  expect(await sql(`select * from followups where lead_id = any($1::bigint[])`, [[out, waiting, queued]])).toEqual([]);
  // the ledger gave back what was cancelled or released: Thursday has out's send only, Friday nothing
  const days = await sql(`select day::text, claimed, scheduled, sent from sender_days where sender_id = $1 and day in ('2026-12-10', '2026-12-11') order by day`, [sender]);
  expect(days).toEqual([
    { day: '2026-12-10', claimed: 0, scheduled: 0, sent: 1 },
    { day: '2026-12-11', claimed: 0, scheduled: 0, sent: 0 },
  ]);
  // and no later day brings anything for them
  expect((await claim(sender, 10, NEXT_MONDAY_10)).leads).toEqual([]);
  const gateStopped = await gateAt(svc, [out!, waiting!, queued!], NEXT_MONDAY_10, sender);
  expect(gateStopped.sendNow).toEqual([]);
  expect(gateStopped.scheduled).toEqual([]);
});

test('a reply from someone at the company, racing 16 claims of the same day, leaves no colleague with a follow-up claimed or sent', async () => {
  const sender = await newSender(100);
  const domain = `bigco${++uniq}.example`;
  const ids = await step1SentOnMonday(sender, 10, domain);

  clockAt(THURSDAY_10);
  const [claims, reply] = await Promise.all([
    Promise.all(Array.from({ length: 16 }, () => svc.api('POST', '/v1/batches/claim', { sender, size: 1 }))),
    svc.api('POST', '/v1/events', { kind: 'reply', email: `ceo@${domain}`, text: 'Please stop writing to my team.' }),
  ]);
  expect(reply.status).toBe(200);
  const claimed = claims.flatMap((c) => c.body.leads.map((l: any) => l.id));
  await composeCurrentStep(claimed);
  const gate = await gateAt(svc, ids, THURSDAY_10, sender);
  expect(gate.sendNow).toEqual([]);
  expect(gate.scheduled).toEqual([]);
  const leads = await sql(`select status from leads where id = any($1::bigint[])`, [ids]);
  expect(leads.every((l: any) => l.status === 'stopped')).toBe(true);
  expect(await sql(`select * from followups where lead_id = any($1::bigint[])`, [ids])).toEqual([]);
  const [day] = await sql(`select claimed, scheduled from sender_days where sender_id = $1 and day = '2026-12-10'`, [sender]);
  expect(day ?? { claimed: 0, scheduled: 0 }).toEqual({ claimed: 0, scheduled: 0 });
});

test('a claimed follow-up nobody composed in time goes back to waiting (not to new), keeps its due day, and is claimed again', async () => {
  const sender = await newSender(100);
  const [lead] = await step1SentOnMonday(sender, 1);
  expect((await claim(sender, 5, THURSDAY_10)).leads.map((l: any) => [l.id, l.step])).toEqual([[lead, 2]]);
  // the claim lease (an hour) runs out: the sweeper releases it
  const swept = await svc.deps.db.call<any>('sweep', { p_now: new Date(THURSDAY_10.getTime() + 2 * 3_600_000) });
  expect(swept.releasedClaims).toBeGreaterThanOrEqual(1); // ours, and what earlier tests left claimed
  expect(await sql(`select status, step from leads where id = $1`, [lead])).toEqual([{ status: 'sent', step: 2 }]);
  const [waiting] = await sql(`select step, due_at from followups where lead_id = $1`, [lead]);
  expect(waiting.step).toBe(2);
  expect(new Date(waiting.due_at).getTime()).toBe(THURSDAY_START);
  expect(await sql(`select lead_id from lead_queue where lead_id = $1`, [lead])).toEqual([]);
  const [day] = await sql(`select claimed from sender_days where sender_id = $1 and day = '2026-12-10'`, [sender]);
  expect(day.claimed).toBe(0);
  // and the next claim of the day takes it again, as step 2
  expect((await claim(sender, 5, new Date('2026-12-10T13:00:00Z'))).leads.map((l: any) => [l.id, l.step])).toEqual([[lead, 2]]);
});
