// Invariant 2, property-tested: whatever the order of claims, gates (the real
// gate, which hands out now or schedules into the first later day with room),
// reschedules into days that already have work, outcomes, expiries, retries and
// replies, every sender-day's work (claimed + scheduled + sending + sent +
// needs_review, counted from the rows themselves) stays within its quota, and
// the ledger agrees with the rows.
import fc from 'fast-check';
import { gateLeads } from '../../src/gate/gate';
import { DAY, HOUR } from '../support/clock';
import { rawSql, stopService } from '../support/database';
import { composeLeads, importLeads, scheduleSends } from '../support/leads';
import { claimBookkeepingGaps, ledgerCounts, ledgerFromRows } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

const MONDAY = Date.parse('2027-03-01T00:00:00Z');
const at = (day: number, hour: number) => new Date(MONDAY + day * DAY + hour * HOUR);

type Cmd =
  | { t: 'claim'; size: number }
  | { t: 'gate'; pick: number }
  | { t: 'claimDue' }
  | { t: 'report'; pick: number; ok: boolean; permanent: boolean }
  | { t: 'reschedule'; pick: number; day: number }
  | { t: 'sweep'; hours: number }
  | { t: 'retry'; pick: number }
  | { t: 'reply'; pick: number }
  | { t: 'tick'; hours: number };

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  w(3, fc.record({ t: fc.constant('claim' as const), size: fc.integer({ min: 1, max: 6 }) })),
  w(4, fc.record({ t: fc.constant('gate' as const), pick: fc.nat() })),
  w(3, fc.record({ t: fc.constant('claimDue' as const) })),
  w(4, fc.record({ t: fc.constant('report' as const), pick: fc.nat(), ok: fc.boolean(), permanent: fc.boolean() })),
  w(3, fc.record({ t: fc.constant('reschedule' as const), pick: fc.nat(), day: fc.integer({ min: 0, max: 2 }) })),
  w(1, fc.record({ t: fc.constant('sweep' as const), hours: fc.integer({ min: 0, max: 30 }) })),
  w(2, fc.record({ t: fc.constant('retry' as const), pick: fc.nat() })),
  w(1, fc.record({ t: fc.constant('reply' as const), pick: fc.nat() })),
  w(1, fc.record({ t: fc.constant('tick' as const), hours: fc.integer({ min: 1, max: 20 }) })),
);

let run = 0;
const seen = new Set<string>();

test('quota holds on every sender-day, across days and reschedules', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(cmd, { minLength: 10, maxLength: 40 }), async (quota, cmds) => {
      run += 1;
      const sender = `q${run}`;
      await svc.api('PUT', `/v1/senders/${sender}`, { dailyQuota: quota, timezone: 'UTC' });
      await importLeads(svc, 8, `r${run}x`);
      const q = rawSql(svc);
      let now = at(0, 8).getTime();
      const db = svc.deps.db;
      const pick = async (sql: string, n: number): Promise<string | undefined> => {
        const rows = await q(sql, [sender]);
        return rows.length === 0 ? undefined : String(rows[n % rows.length].id);
      };

      for (const c of cmds) {
        const p_now = new Date(now);
        switch (c.t) {
          case 'tick':
            now += c.hours * HOUR;
            break;
          case 'claim':
            await db.call('claim_batch', { p_sender: sender, p_size: c.size, p_lease_seconds: 12 * 3600, p_now });
            break;
          case 'gate': {
            // compose a claimed lead (or take one the gate found no room for) and gate it, as POST /v1/gate at this instant
            const id = await pick(
              "select l.id from leads l join batches b on b.id = l.batch_id where b.sender_id = $1 and l.status in ('claimed', 'composed') order by l.id",
              c.pick,
            );
            if (!id) break;
            await composeLeads(svc, [id]);
            const gated = await gateLeads<{ sendAt: string }>(db, { leadIds: [id], sender, leaseSeconds: 600, now: p_now });
            seen.add(gated.sendNow.length > 0 ? 'sent now' : gated.scheduled.length > 0 ? 'scheduled' : `gate: ${gated.skipped[0]?.code}`);
            break;
          }
          case 'claimDue': {
            // wait for the earliest pending send, as n8n's schedule would
            const [next] = await q(
              "select min(send_at) as t from sends where sender_id = $1 and status in ('scheduled', 'failed')",
              [sender],
            );
            if (next?.t) now = Math.max(now, new Date(next.t).getTime());
            await db.call('claim_due_sends', { p_sender: sender, p_limit: 10, p_lease_seconds: 600, p_now: new Date(now) });
            break;
          }
          case 'report': {
            const id = await pick("select id from sends where sender_id = $1 and status in ('sending', 'needs_review') order by id", c.pick);
            if (!id) break;
            const r = await db.call<{ retrying: number; deadLettered: number }>('report_sends', {
              p_results: [{ sendId: id, status: c.ok ? 'sent' : 'failed', permanent: c.permanent, error: 'x' }],
              p_max_attempts: 2,
              p_backoff_seconds: 1800,
              p_now,
            });
            seen.add(c.ok ? 'sent' : r.deadLettered > 0 ? 'dead' : 'retrying');
            break;
          }
          case 'reschedule': {
            // a pending send whose window passed moves into a later day that may already have work
            const id = await pick("select id from sends where sender_id = $1 and status in ('scheduled', 'failed') order by id", c.pick);
            if (!id) break;
            const [s] = await q('select window_end from sends where id = $1', [id]);
            const missedAt = new Date(Math.max(now, new Date(s.window_end).getTime()));
            now = missedAt.getTime();
            const first = Math.floor((now - MONDAY) / DAY) + 1 + (c.day % 2);
            const windows = (c.pick % 2 === 0 ? [0] : [0, 1]).map((k) => ({ start: at(first + k, 9).toISOString(), end: at(first + k, 17).toISOString() }));
            const moved = await db.call<{ moved: boolean; reason?: string }>('reschedule_send', {
              p_send_id: id,
              p_windows: windows,
              p_now: missedAt,
            });
            seen.add(moved.moved ? 'moved' : `not moved: ${moved.reason}`);
            break;
          }
          case 'sweep':
            now += c.hours * HOUR;
            await db.call('sweep', { p_now: new Date(now) });
            break;
          case 'retry': {
            const id = await pick("select id from sends where sender_id = $1 and status in ('dead', 'needs_review') order by id", c.pick);
            if (!id) break;
            seen.add('retry');
            await db.call('retry_send', { p_id: id, p_now }).catch((e) => {
              // refusals a human retry can meet: the lead answered or was suppressed, or no day has room
              if (!/address_suppressed|no_quota_room|lead_replied|lead_unsubscribed|lead_complained/.test(String(e.message))) throw e;
            });
            break;
          }
          case 'reply': {
            const id = await pick(
              "select l.id from leads l join batches b on b.id = l.batch_id where b.sender_id = $1 order by l.id",
              c.pick,
            );
            if (!id) break;
            await db.call('record_event', { p_event: { kind: 'reply', text: `hi ${now}` }, p_lead_id: id, p_now });
            break;
          }
        }
        const rows = await ledgerFromRows(svc);
        expect(rows).toEqual(await ledgerCounts(svc));
        expect(await claimBookkeepingGaps(svc)).toEqual({ unqueued: [], unsweepable: [] });
        for (const [key, v] of Object.entries(rows)) {
          if (!key.startsWith(`${sender}/`)) continue;
          expect(v.claimed + v.scheduled + v.sent).toBeLessThanOrEqual(quota);
        }
      }
      const dupes = await q('select lead_id, step, count(*) from sends group by 1, 2 having count(*) > 1');
      expect(dupes).toEqual([]);
    }),
    { numRuns: 60 },
  );
  // the commands reached every transition (a property over no-ops would prove nothing)
  expect([...seen].sort()).toEqual(
    expect.arrayContaining(['dead', 'moved', 'retry', 'retrying', 'scheduled', 'sent', 'sent now']),
  );
  const states = await rawSql(svc)("select distinct status from sends where status in ('cancelled', 'needs_review')");
  expect(states).toHaveLength(2);
}, 600_000);

test('a missed send is moved past a day that is already full, never into it', async () => {
  await svc.api('PUT', '/v1/senders/full', { dailyQuota: 2, timezone: 'UTC' });
  await importLeads(svc, 4, 'full');
  const db = svc.deps.db;
  const claim = async () =>
    (await db.call<{ leads: { id: string }[] }>('claim_batch', { p_sender: 'full', p_size: 2, p_now: at(7, 8) })).leads.map((l) => l.id);
  const first = await claim();
  expect(first).toHaveLength(2);
  await scheduleSends(svc, first, at(8, 9), at(8, 17)); // Tuesday is now full
  const second = await claim(); // Monday has room again: its claims moved to Tuesday
  expect(second).toHaveLength(2);
  const [late] = await scheduleSends(svc, [second[0]!], at(7, 9), at(7, 17));

  const tuesdayOnly = [{ start: at(8, 9).toISOString(), end: at(8, 17).toISOString() }];
  const refused = await db.call<{ moved: boolean; reason: string }>('reschedule_send', {
    p_send_id: late.sendId,
    p_windows: tuesdayOnly,
    p_now: at(7, 17),
  });
  expect(refused).toEqual({ moved: false, reason: 'no_room' });
  const moved = await db.call<{ moved: boolean; send: { day: string; sendAt: string } }>('reschedule_send', {
    p_send_id: late.sendId,
    p_windows: [...tuesdayOnly, { start: at(9, 9).toISOString(), end: at(9, 17).toISOString() }],
    p_now: at(7, 17),
  });
  expect(moved.moved).toBe(true);
  expect(moved.send.day).toBe('2027-03-10');
  const l = await ledgerCounts(svc);
  expect(l['full/2027-03-08']).toEqual({ claimed: 1, scheduled: 0, sent: 0 });
  expect(l['full/2027-03-09']).toEqual({ claimed: 0, scheduled: 2, sent: 0 });
  expect(l['full/2027-03-10']).toEqual({ claimed: 0, scheduled: 1, sent: 0 });
  // moving it twice (another replica's sweep) changes nothing
  const again = await db.call<{ moved: boolean }>('reschedule_send', {
    p_send_id: late.sendId,
    p_windows: tuesdayOnly,
    p_now: at(7, 17),
  });
  expect(again.moved).toBe(false);
  expect(await ledgerCounts(svc)).toEqual(l);
});

test('32 callers gate at once: every business day gets exactly its quota, none more, the ledger exact', async () => {
  const QUOTA = 4;
  await svc.api('PUT', '/v1/senders/pack', { dailyQuota: QUOTA, timezone: 'UTC' });
  await importLeads(svc, 32, 'pack');
  const db = svc.deps.db;
  // a week and a day of claims (4 a day): 32 claimed leads, each counting against its own claim day
  const claimed: string[] = [];
  for (let day = 0; day < 8; day++) {
    const batch = await db.call<{ leads: { id: string }[] }>('claim_batch', { p_sender: 'pack', p_size: QUOTA, p_now: at(day, 8) });
    claimed.push(...batch.leads.map((l) => l.id));
  }
  expect(claimed).toHaveLength(32);
  await composeLeads(svc, claimed);

  // Monday 08:00 of the second week: 32 gates at once, one lead each; a lead
  // found busy (another caller held its day) is gated again, as the node would
  const gated = new Map<string, string>();
  let pending = claimed;
  for (let round = 0; pending.length > 0 && round < 50; round++) {
    const answers = await Promise.all(
      pending.map((id) => gateLeads<{ leadId: string; sendAt: string }>(db, { leadIds: [id], sender: 'pack', leaseSeconds: 600, now: at(7, 8) })),
    );
    for (const a of answers) {
      for (const s of [...a.sendNow, ...a.scheduled]) gated.set(s.leadId, s.sendAt.slice(0, 10));
      for (const s of a.skipped) expect(s.code).toBe('lead_busy');
    }
    pending = pending.filter((id) => !gated.has(id));
  }
  expect(pending).toEqual([]);

  const perDay: Record<string, number> = {};
  for (const day of gated.values()) perDay[day] = (perDay[day] ?? 0) + 1;
  // the first eight business days from that Monday, each filled exactly
  expect(perDay).toEqual({
    '2027-03-08': 4, '2027-03-09': 4, '2027-03-10': 4, '2027-03-11': 4,
    '2027-03-12': 4, '2027-03-15': 4, '2027-03-16': 4, '2027-03-17': 4,
  });
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));
  const dupes = await rawSql(svc)("select lead_id from sends where sender_id = 'pack' group by lead_id having count(*) > 1");
  expect(dupes).toEqual([]);
});
