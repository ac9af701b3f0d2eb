// A pool never exceeds its daily target nor any mailbox's effective (ramped)
// limit: 32 concurrent callers through 3 service processes on one Postgres,
// with the target and a member's ramp changed while they run. Postgres only
// (PGlite is one process by design).
import pg from 'pg';
import { callApi } from '../support/test-service';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { killAll, startProcess } from '../batches/service-processes';
import { postgresOnly } from '../support/database';

const { describe: describePg } = postgresOnly('several service processes share one database; PGlite is one process');

let database: TestDatabase;
let sql: pg.Pool | undefined;
beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  killAll();
  await sql?.end();
  sql = undefined;
  await database?.drop();
});

const everyDay = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' };

describePg('pool invariants', () => {
  test('32 concurrent pool claims on 3 replicas: within the target and every mailbox limit, no lead twice, lowest first', async () => {
    const procs = await Promise.all([0, 1, 2].map(() => startProcess(database.url!)));
    const api = (i: number, method: string, path: string, body?: unknown) => callApi(procs[i % 3]!.url, method, path, body);
    // five mailboxes in different zones; two ramped (one new, one on its third sending day)
    const members: [string, Record<string, unknown>][] = [
      ['m1', { dailyQuota: 40, timezone: 'Europe/Berlin' }],
      ['m2', { dailyQuota: 35, timezone: 'America/New_York' }],
      ['m3', { dailyQuota: 400, timezone: 'UTC', rampUp: {} }],
      ['m4', { dailyQuota: 400, timezone: 'Asia/Tokyo', rampUp: { start: 5, step: 7, cap: 50, startedOn: '2000-01-01' } }],
      ['m5', { dailyQuota: 12, timezone: 'UTC' }],
    ];
    for (const [id, body] of members) {
      expect((await api(0, 'PUT', `/v1/senders/${id}`, { ...body, window: everyDay })).status).toBe(200);
    }
    expect((await api(0, 'PUT', '/v1/pools/p', { dailyTarget: 120, members: members.map(([id]) => id) })).status).toBe(200);
    const leads = Array.from({ length: 400 }, (_, i) => ({ email: `pooled${i}@example.com` }));
    const ids = (await api(0, 'POST', '/v1/leads/import', { leads })).body.leadIds as string[];

    const sizes = [1, 3, 10, 25, undefined, 7];
    const calls = Array.from({ length: 32 }, (_, i) => {
      if (i === 10) return api(i, 'PUT', '/v1/pools/p', { dailyTarget: 100 }); // lowered mid-run
      if (i === 20) return api(i, 'PUT', '/v1/senders/m5', { dailyQuota: 8 }); // a member's quota lowered mid-run
      return api(i, 'POST', '/v1/pools/p/claim', {
        size: sizes[i % sizes.length],
        ...(i % 5 === 0 ? { idempotencyKey: 'same' } : {}),
      });
    });
    const answers = await Promise.all(calls);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));

    const claims = answers.filter((_, i) => i !== 10 && i !== 20);
    // a key answers one claim, however often it is sent
    const keyed = answers.filter((_, i) => i % 5 === 0 && i !== 10 && i !== 20);
    expect(new Set(keyed.map((a) => JSON.stringify(a.body.leads.map((l: { id: string }) => l.id)))).size).toBe(1);
    const handedOut = new Map<string, string>();
    for (const a of claims) for (const l of a.body.leads as { id: string; sender: string }[]) handedOut.set(l.id, l.sender);

    sql = new pg.Pool({ connectionString: database.url, max: 1 });
    const perSender = await sql.query(`
      select d.sender_id, d.quota, d.claimed + d.scheduled + d.sent as used, sender_effective_limit(s, d.day) as effective,
             (select count(*)::int from leads l join batches b on b.id = l.batch_id
               where b.sender_id = d.sender_id and l.status = 'claimed') as leads
        from sender_days d join senders s on s.id = d.sender_id order by 1`);
    let total = 0;
    for (const row of perSender.rows) {
      // each mailbox within its limit: the ramped one as ramped, m5 within the quota it had when it claimed
      expect(row.used).toBeLessThanOrEqual(row.quota);
      expect(row.used).toBeLessThanOrEqual(row.sender_id === 'm5' ? 12 : row.effective);
      expect(row.leads).toBe(row.used);
      total += row.used;
    }
    // within the first target whatever the order; every lead the answers named is claimed once, by its mailbox
    expect(total).toBeLessThanOrEqual(120);
    expect(handedOut.size).toBe(total);
    const claimedRows = await sql.query(`select l.id::text, b.sender_id from leads l join batches b on b.id = l.batch_id where l.status = 'claimed'`);
    expect(new Map(claimedRows.rows.map((r) => [r.id, r.sender_id]))).toEqual(handedOut);
    // the lowest leads, in sequence
    expect([...handedOut.keys()].sort((a, b) => Number(a) - Number(b))).toEqual(ids.slice(0, total));
    // the ramp: m3 is new (10), m4 long ramped (cap 50, quota 400 → 50)
    const limits = Object.fromEntries(perSender.rows.map((r) => [r.sender_id, r.effective]));
    expect(limits.m3).toBe(10);
    expect(limits.m4).toBe(50);
    // the rooms (40 + 35 + 10 + 50 + 12) exceed the target, so the target is what stopped the claims
    // (a lowered target takes nothing back): the pool is full, and the next claim gets nothing
    expect(total).toBeGreaterThanOrEqual(100);
    const after = await callApi(procs[0]!.url, 'POST', '/v1/pools/p/claim', {});
    expect(after.body.leads).toHaveLength(0);
  });
});
