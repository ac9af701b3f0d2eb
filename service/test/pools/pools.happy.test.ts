import { importLeads, rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

/** Today as YYYY-MM-DD in UTC (the senders here are on UTC), shifted by days. */
function utcDay(shift = 0): string {
  return new Date(Date.now() + shift * 86_400_000).toISOString().slice(0, 10);
}

/** A window of every day, so a test never depends on the weekday it runs on. */
const everyDay = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' };

test('ramp-up: a new mailbox starts at its start limit and gains a step per sending day up to its cap', async () => {
  const fresh = await svc.api('PUT', '/v1/senders/ramp-new', { dailyQuota: 400, timezone: 'UTC', window: everyDay, rampUp: {} });
  expect(fresh.status).toBe(200);
  expect(fresh.body.rampUp).toEqual({ start: 10, step: 5, cap: 40, startedOn: utcDay() });
  expect(fresh.body.limitToday).toBe(10);

  // three sending days ago: 10 + 3 × 5
  const older = await svc.api('PUT', '/v1/senders/ramp-new', { rampUp: { startedOn: utcDay(-3) } });
  expect(older.body.limitToday).toBe(25);
  // long ago: the cap; and a quota under the cap wins
  expect((await svc.api('PUT', '/v1/senders/ramp-new', { rampUp: { startedOn: utcDay(-300) } })).body.limitToday).toBe(40);
  expect((await svc.api('PUT', '/v1/senders/ramp-new', { dailyQuota: 30 })).body.limitToday).toBe(30);
  // off: the daily quota every day
  const off = await svc.api('PUT', '/v1/senders/ramp-new', { rampUp: null });
  expect(off.body).toMatchObject({ rampUp: null, limitToday: 30 });

  // only days of the sending window count: Mon–Fri only, started 14 days ago → 10 sending days
  const weekdays = await svc.api('PUT', '/v1/senders/ramp-weekdays', {
    dailyQuota: 400, timezone: 'UTC', rampUp: { start: 0, step: 1, cap: 1000, startedOn: utcDay(-14) },
  });
  expect(weekdays.body.limitToday).toBe(10);
});

test('ramp-up: the claim and the ledger hold the ramped limit, and GET /v1/stats shows it', async () => {
  await svc.api('PUT', '/v1/senders/ramp-claim', {
    dailyQuota: 400, timezone: 'UTC', window: everyDay, rampUp: { start: 10, step: 5, cap: 40, startedOn: utcDay(-1) },
  });
  await importLeads(svc, 40, 'rampclaim');
  const claim = await svc.api('POST', '/v1/batches/claim', { sender: 'ramp-claim' });
  expect(claim.body).toMatchObject({ quota: 15, remainingToday: 0 });
  expect(claim.body.leads).toHaveLength(15);
  expect((await svc.api('POST', '/v1/batches/claim', { sender: 'ramp-claim', size: 5 })).body.leads).toHaveLength(0);
  expect((await svc.api('GET', '/v1/stats?sender=ramp-claim')).body).toMatchObject({ quota: 15, used: 15, remaining: 0 });
  // the ramp turned off raises today's ledger at once
  await svc.api('PUT', '/v1/senders/ramp-claim', { rampUp: null });
  expect((await svc.api('GET', '/v1/stats?sender=ramp-claim')).body).toMatchObject({ quota: 400, remaining: 385 });
});

test('an existing sender is not ramped: its daily quota holds from the first day', async () => {
  const sender = await svc.api('GET', '/v1/senders/default');
  expect(sender.body).toMatchObject({ rampUp: null, limitToday: sender.body.dailyQuota });
});

test('a pool spreads its claim over its mailboxes by the room each has today; every lead carries its mailbox and From', async () => {
  await rawSql(svc)('delete from lead_queue');
  for (const [id, body] of [
    ['pa', { dailyQuota: 40 }],
    ['pb', { dailyQuota: 40 }],
    ['pc', { dailyQuota: 400, rampUp: { start: 10, step: 5, cap: 40 } }],
  ] as const) {
    const put = await svc.api('PUT', `/v1/senders/${id}`, {
      ...body, timezone: 'UTC', window: everyDay, fromName: `Name ${id}`, fromEmail: `${id}@corofy.test`,
    });
    expect(put.status).toBe(200);
  }
  const pool = await svc.api('PUT', '/v1/pools/team', { dailyTarget: 60, members: ['pa', 'pb', 'pc'] });
  expect(pool.status).toBe(200);
  expect(pool.body).toMatchObject({ id: 'team', dailyTarget: 60, usedToday: 0, remainingToday: 60 });
  expect(pool.body.members.map((m: { sender: string; roomToday: number }) => [m.sender, m.roomToday])).toEqual([
    ['pa', 40], ['pb', 40], ['pc', 10],
  ]);

  await importLeads(svc, 100, 'pooled');
  const claim = await svc.api('POST', '/v1/pools/team/claim', {});
  expect(claim.status).toBe(200);
  // 60 over rooms 40/40/10 (90): 26.67/26.67/6.67 → 27, 27, 6 (largest remainders first)
  const bySender: Record<string, number> = {};
  for (const lead of claim.body.leads) bySender[lead.sender] = (bySender[lead.sender] ?? 0) + 1;
  expect(bySender).toEqual({ pa: 27, pb: 27, pc: 6 });
  for (const lead of claim.body.leads) {
    expect(lead.from).toEqual({ name: `Name ${lead.sender}`, email: `${lead.sender}@corofy.test` });
  }
  // in sequence order, none twice
  const ids = claim.body.leads.map((l: { id: string }) => Number(l.id));
  expect(new Set(ids).size).toBe(60);
  expect(claim.body.today).toMatchObject({ usedToday: 60, remainingToday: 0 });

  // the target is spent: another claim gets nothing, and a member cannot be claimed around its pool
  expect((await svc.api('POST', '/v1/pools/team/claim', {})).body.leads).toHaveLength(0);
  expect((await svc.api('POST', '/v1/batches/claim', { sender: 'pa' })).body).toMatchObject({ status: 409, code: 'sender_in_pool' });
  // each lead's batch is its mailbox's: the per-sender ledgers hold them
  const stats = await svc.api('GET', '/v1/stats?sender=pc');
  expect(stats.body).toMatchObject({ quota: 10, used: 6 });
  // the pool and each mailbox in GET /v1/stats
  const poolStats = await svc.api('GET', '/v1/stats?pool=team');
  expect(poolStats.body.pool).toEqual({ id: 'team', dailyTarget: 60, usedToday: 60, remainingToday: 0 });
  expect(poolStats.body.mailboxes.map((m: { sender: string; quota: number; used: number }) => [m.sender, m.quota, m.used])).toEqual([
    ['pa', 40, 27], ['pb', 40, 27], ['pc', 10, 6],
  ]);
  expect((await svc.api('GET', '/v1/stats?pool=nope')).body).toMatchObject({ status: 404, code: 'pool_not_found' });
});

test('a pool claim with an idempotency key answers the same leads again', async () => {
  await svc.api('PUT', '/v1/senders/qa', { dailyQuota: 5, timezone: 'UTC', window: everyDay });
  await svc.api('PUT', '/v1/senders/qb', { dailyQuota: 5, timezone: 'UTC', window: everyDay });
  await svc.api('PUT', '/v1/pools/again', { dailyTarget: 100, members: ['qa', 'qb'] });
  await importLeads(svc, 20, 'again');
  const first = await svc.api('POST', '/v1/pools/again/claim', { size: 6, idempotencyKey: 'run-1' });
  const second = await svc.api('POST', '/v1/pools/again/claim', { size: 6, idempotencyKey: 'run-1' });
  expect(first.body.leads).toHaveLength(6);
  expect(second.body.replayed).toBe(true);
  expect(second.body.leads.map((l: { id: string }) => l.id)).toEqual(first.body.leads.map((l: { id: string }) => l.id));
});

test('pools: bad input and unknown pools or senders are problems with their code', async () => {
  expect((await svc.api('GET', '/v1/pools/nope')).body).toMatchObject({ status: 404, code: 'pool_not_found' });
  expect((await svc.api('PUT', '/v1/pools/x', { members: ['ghost'] })).body).toMatchObject({ status: 404, code: 'sender_not_found' });
  expect((await svc.api('PUT', '/v1/pools/x', { dailyTarget: -1 })).status).toBe(400);
  await svc.api('PUT', '/v1/senders/lonely', { dailyQuota: 5 });
  await svc.api('PUT', '/v1/pools/one', { members: ['lonely'] });
  expect((await svc.api('PUT', '/v1/pools/two', { members: ['lonely'] })).body).toMatchObject({
    status: 409, code: 'sender_in_another_pool',
  });
  expect((await svc.api('PUT', '/v1/senders/lonely', { rampUp: { start: -1 } })).status).toBe(400);
});
