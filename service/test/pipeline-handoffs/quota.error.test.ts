// Seams of the quota ledger: a sender changed mid-day (PUT /v1/senders/:id),
// and a failed send's retry that lands on the sender's next local day.
import { composedLeads, gateAt } from '../gate/gate-fixture';
import { importLeads, ledger, ledgerCounts, ledgerFromRows, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

test('lowering dailyQuota below what today already used stops today\'s claims at once', async () => {
  await svc.api('PUT', '/v1/senders/lowered', { dailyQuota: 10 });
  await importLeads(svc, 8, 'lowered');
  const first = await svc.api('POST', '/v1/batches/claim', { sender: 'lowered', size: 5 });
  expect(first.body.leads).toHaveLength(5);

  const put = await svc.api('PUT', '/v1/senders/lowered', { dailyQuota: 3 });
  expect(put.status).toBe(200);

  const second = await svc.api('POST', '/v1/batches/claim', { sender: 'lowered' });
  expect(second.status).toBe(200);
  expect(second.body.leads).toEqual([]);
  expect(second.body.remainingToday).toBe(0);
  const stats = await svc.api('GET', '/v1/stats?sender=lowered');
  expect(stats.body.remaining).toBe(0);
  expect(stats.body.used).toBe(5);
});

test('a retry whose backoff crosses the sender\'s midnight is not handed out on a day it is not counted on', async () => {
  // Sender in UTC with quota 1; recipients in Auckland (09:00-17:00 NZDT = 20:00-04:00 UTC).
  await svc.api('PUT', '/v1/senders/midnight', { dailyQuota: 1, timezone: 'UTC' });
  const [first, second] = await composedLeads(svc, [
    { email: 'kiri@midnight.example', timezone: 'Pacific/Auckland' },
    { email: 'tama@midnight.example', timezone: 'Pacific/Auckland' },
  ]);
  // Mon 2026-12-07 23:50 UTC (Tue 12:50 in Auckland): the first goes out now, counted on 12-07
  const g1 = await gateAt(svc, [first!], new Date('2026-12-07T23:50:00Z'), 'midnight');
  expect(g1.sendNow[0]).toMatchObject({ day: '2026-12-07' });
  // 12-07 is full: the second is scheduled at the sender's midnight, counted on 12-08 (now full too)
  const g2 = await gateAt(svc, [second!], new Date('2026-12-07T23:51:00Z'), 'midnight');
  expect(g2.scheduled[0]).toMatchObject({ day: '2026-12-08' });

  // 23:58: the first attempt failed; the backoff (5 min) puts the retry at 00:03 on 12-08
  const rep = await svc.deps.db.call<any>('report_sends', {
    p_results: [{ sendId: g1.sendNow[0].sendId, status: 'failed', error: 'SMTP 451' }],
    p_now: new Date('2026-12-07T23:58:00Z'),
  });
  expect(rep.retrying).toBe(1);

  // 00:05 on 12-08: at most the day's quota is handed out, and only sends counted on 12-08
  const due = await svc.deps.db.call<any>('claim_due_sends', { p_sender: 'midnight', p_now: new Date('2026-12-08T00:05:00Z') });
  expect(due.sends.map((s: any) => s.day)).toEqual(['2026-12-08']);
  expect(due.sends[0].leadId).toBe(second);

  // the retry is placed by the sweeper on a day with room, and the ledger stays within quota
  const { runSweep } = await import('../../src/sweeper/sweeper');
  const sweep = await runSweep(svc.deps, new Date('2026-12-08T00:06:00Z'));
  expect(sweep.rescheduled).toBe(1);
  const moved = (await svc.api('GET', `/v1/sends?leadId=${first}`)).body.sends[0];
  expect(moved.day > '2026-12-08').toBe(true);
  for (const d of Object.values(await ledger(svc))) expect(d.claimed + d.scheduled + d.sent).toBeLessThanOrEqual(d.quota);
  const days = await ledger(svc);
  expect(days['midnight/2026-12-07']).toMatchObject({ scheduled: 0 });
  expect(days['midnight/2026-12-08']).toMatchObject({ scheduled: 1 });
});

test('sends left over when the service was down over the sender\'s midnight are not handed out on top of the next day\'s quota', async () => {
  // Sender in UTC with quota 1; recipients in Auckland (their 09:00-17:00 is 20:00-04:00 UTC)
  await svc.api('PUT', '/v1/senders/overnight', { dailyQuota: 1, timezone: 'UTC' });
  const [first, second] = await composedLeads(svc, [
    { email: 'aroha@overnight.example', timezone: 'Pacific/Auckland' },
    { email: 'wiremu@overnight.example', timezone: 'Pacific/Auckland' },
  ]);
  // Mon 19:00 UTC: the first is scheduled at 20:00 (counted on Monday), the second at Tuesday 00:00 (Monday is full)
  const g = await gateAt(svc, [first!, second!], new Date('2026-12-14T19:00:00Z'), 'overnight');
  expect(g.scheduled.map((s: any) => [s.leadId, s.day])).toEqual([
    [first, '2026-12-14'],
    [second, '2026-12-15'],
  ]);

  // the service was down from 19:30 to 00:30: at 00:30 Tuesday only Tuesday's send is handed out
  const due = await svc.deps.db.call<any>('claim_due_sends', { p_sender: 'overnight', p_now: new Date('2026-12-15T00:30:00Z') });
  expect(due.sends.map((s: any) => [s.leadId, s.day])).toEqual([[second, '2026-12-15']]);

  // Monday's leftover is moved by the sweeper to the first window on a day with room
  const { runSweep } = await import('../../src/sweeper/sweeper');
  await runSweep(svc.deps, new Date('2026-12-15T00:31:00Z'));
  const moved = (await svc.api('GET', `/v1/sends?leadId=${first}`)).body.sends[0];
  expect(moved.day).toBe('2026-12-16');
  const days = await ledger(svc);
  expect(days['overnight/2026-12-14']).toMatchObject({ scheduled: 0 });
  expect(days['overnight/2026-12-16']).toMatchObject({ scheduled: 1 });
});

test('after all of the above the quota ledger equals what the rows say', async () => {
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));
});
