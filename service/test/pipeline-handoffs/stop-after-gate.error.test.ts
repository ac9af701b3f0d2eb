// Seams between the gate, the send side and events/suppressions: a lead that
// stops (reply, suppression) after its send was gated must end in a visible,
// final state, and its send must neither be queued again nor hold quota.
import { runSweep } from '../../src/sweeper/sweeper';
import { composedLeads, gateAt } from '../gate/gate-fixture';
import { ledger, ledgerCounts, ledgerFromRows, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

// Monday 2026-12-07; the default sender: UTC, Mon-Fri 09:00-17:00
const MON_10 = new Date('2026-12-07T10:00:00Z');
const plus = (d: Date, minutes: number) => new Date(d.getTime() + minutes * 60_000);

async function sendOf(leadId: string) {
  const r = await svc.api('GET', `/v1/sends?leadId=${leadId}`);
  expect(r.status).toBe(200);
  return r.body.sends[0];
}

test('a reply while the send is in flight, then a failed report: the send is cancelled, never queued again, and frees its quota', async () => {
  const [id] = await composedLeads(svc, [{ email: 'ann@reply-in-flight.example', timezone: 'UTC' }]);
  const gated = await gateAt(svc, [id!], MON_10);
  expect(gated.sendNow).toHaveLength(1);
  const sendId = gated.sendNow[0].sendId;

  const ev = await svc.deps.db.call<any>('record_event', {
    p_event: { kind: 'reply', email: 'Ann@Reply-In-Flight.example', text: 'Interesting, tell me more' },
    p_now: plus(MON_10, 1),
  });
  expect(ev).toMatchObject({ leadId: id, status: 'replied' });

  // the SMTP node then reports a transient failure of the attempt that was in flight
  const rep = await svc.deps.db.call<any>('report_sends', {
    p_results: [{ sendId, status: 'failed', error: 'SMTP 421' }],
    p_now: plus(MON_10, 2),
  });
  expect(rep).toMatchObject({ recorded: 1, retrying: 0, deadLettered: 0, cancelled: 1 });

  expect(await sendOf(id!)).toMatchObject({ status: 'cancelled' });
  expect((await ledger(svc))['default/2026-12-07']).toMatchObject({ scheduled: 0, sent: 0 });

  // later days: the sweeper does not move it into a new window (it would hold quota forever)
  const sweep = await runSweep(svc.deps, new Date('2026-12-08T10:00:00Z'));
  expect(sweep.rescheduled).toBe(0);
  expect(await sendOf(id!)).toMatchObject({ status: 'cancelled' });
  expect((await svc.api('GET', `/v1/leads/${id}`)).body.status).toBe('replied');
  const days = await ledger(svc);
  expect(Object.values(days).reduce((n, d) => n + d.scheduled, 0)).toBe(0);
});

test('a human retry of a needs_review send whose lead replied is refused (409), nothing changes', async () => {
  const [id] = await composedLeads(svc, [{ email: 'bob@reply-review.example', timezone: 'UTC' }]);
  const gated = await gateAt(svc, [id!], MON_10);
  const sendId = gated.sendNow[0].sendId;
  await svc.deps.db.call('record_event', { p_event: { kind: 'reply', email: 'bob@reply-review.example' }, p_now: plus(MON_10, 1) });
  // the lease runs out without a report: outcome unknown
  await runSweep(svc.deps, plus(MON_10, 30));
  expect(await sendOf(id!)).toMatchObject({ status: 'needs_review' });

  const r = await svc.api('POST', `/v1/sends/${sendId}/retry`);
  expect(r.status).toBe(409);
  expect(r.body.code).toBe('lead_replied');
  expect(await sendOf(id!)).toMatchObject({ status: 'needs_review' });
});

test('a domain suppressed after the gate: the scheduled send is cancelled and the lead says why (not "scheduled")', async () => {
  const [a, b] = await composedLeads(svc, [
    { email: 'carol@Late-Domain.example', timezone: 'UTC' },
    { email: 'dave@late-domain.example', timezone: 'UTC' },
  ]);
  // 07:00: both are scheduled for 09:00
  const gated = await gateAt(svc, [a!, b!], new Date('2026-12-08T07:00:00Z'));
  expect(gated.scheduled).toHaveLength(2);

  const r = await svc.api('POST', '/v1/suppressions', { domain: 'LATE-domain.example', reason: 'customer asked' });
  expect(r.status).toBe(200);
  expect(r.body.cancelledSends).toBe(2);

  for (const id of [a!, b!]) {
    expect(await sendOf(id)).toMatchObject({ status: 'cancelled' });
    const lead = (await svc.api('GET', `/v1/leads/${id}`)).body;
    expect(lead.status).toBe('skipped');
    expect(lead.statusReason).toMatch(/suppressed/);
  }
  // nothing is handed out at 09:00
  const due = await svc.deps.db.call<any>('claim_due_sends', { p_now: new Date('2026-12-08T09:01:00Z') });
  expect(due.sends.filter((s: any) => [a, b].includes(s.leadId))).toEqual([]);
});

test('an address suppressed between claim-due and a failed report: the send is cancelled, not retried, the lead skipped', async () => {
  const [id] = await composedLeads(svc, [{ email: 'fay@between.example', timezone: 'UTC' }]);
  // 08:00 Wednesday: scheduled for 09:00; claim-due hands it out at 09:01
  await gateAt(svc, [id!], new Date('2026-12-09T08:00:00Z'));
  const due = await svc.deps.db.call<any>('claim_due_sends', { p_now: new Date('2026-12-09T09:01:00Z') });
  const send = due.sends.find((s: any) => s.leadId === id);
  expect(send).toMatchObject({ status: 'sending' });
  expect((await svc.api('POST', '/v1/suppressions', { email: 'FAY@between.example', reason: 'asked by phone' })).status).toBe(200);
  const rep = await svc.deps.db.call<any>('report_sends', {
    p_results: [{ sendId: send.sendId, status: 'failed', error: 'SMTP 451', attempt: send.attempts }],
    p_now: new Date('2026-12-09T09:02:00Z'),
  });
  expect(rep).toMatchObject({ retrying: 0, cancelled: 1 });
  expect(await sendOf(id!)).toMatchObject({ status: 'cancelled' });
  expect((await svc.api('GET', `/v1/leads/${id}`)).body).toMatchObject({ status: 'skipped', statusReason: 'suppressed' });
});

test('after all of the above the quota ledger equals what the rows say', async () => {
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));
});
