// Follow-ups across service replicas and kill -9: two service processes on one
// Postgres database claim and gate the day's due follow-ups at once, one is
// killed in the middle, and the interrupted calls are sent again (same keys) to
// the survivor. No lead gets its step 2 twice, none is lost, and the ledger
// agrees with the rows. Postgres only: PGlite is one process by design.
import pg from 'pg';
import { exited, killAll, startProcess, type ServiceProcess } from '../batches/service-processes';
import { callApi } from '../support/test-service';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { postgresOnly } from '../support/database';

const onPostgres = !!process.env.TEST_DATABASE_URL;
const { describe: describePg } = postgresOnly('several service processes killed with -9 share one database; PGlite is one process');

let database: TestDatabase;
let sql: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  if (onPostgres) sql = new pg.Pool({ connectionString: database.url!, max: 2 });
});
afterAll(async () => {
  killAll();
  await sql?.end();
  await database?.drop();
});

const SANDBOX = { COROFY_SANDBOX: 'true', COROFY_DISPATCH_INTERVAL_MS: '0' };
const N = 40;
const setClock = async (p: ServiceProcess, iso: string) =>
  expect((await callApi(p.url, 'PUT', '/v1/sandbox/clock', { now: iso })).status).toBe(200);

describePg('follow-ups under replicas and kill -9', () => {
  test('claims and gates of the due follow-ups on two replicas, one killed mid-way: each lead gets step 2 once', async () => {
    const a = await startProcess(database.url!, SANDBOX);
    const b = await startProcess(database.url!, SANDBOX);
    // Monday: step 1 to N leads through the real paths (claim, gate, report)
    await setClock(a, '2026-12-07T10:00:00Z');
    const leads = Array.from({ length: N }, (_, i) => ({ email: `p${i}@co${i}.example`, firstName: `P${i}`, timezone: 'UTC' }));
    expect((await callApi(a.url, 'PUT', '/v1/senders/default', { timezone: 'UTC', dailyQuota: 100 })).status).toBe(200);
    const ids: string[] = (await callApi(a.url, 'POST', '/v1/leads/import', { leads })).body.leadIds;
    const monday = await callApi(a.url, 'POST', '/v1/batches/claim', { size: N });
    expect(monday.body.leads).toHaveLength(N);
    const draft = async () => {
      await sql.query(
        `insert into drafts (lead_id, step, subject, text, html, source)
         select id, step, 'Hello ' || id, 'Text', '<p>Text</p>', 'generic' from leads where status = 'claimed' on conflict do nothing`,
      );
      await sql.query(`update leads set status = 'composed' where status = 'claimed'`);
    };
    await draft();
    const gate1 = await callApi(a.url, 'POST', '/v1/gate', { leadIds: ids });
    expect(gate1.body.sendNow).toHaveLength(N);
    const rep = await callApi(a.url, 'POST', '/v1/sends/report', {
      results: gate1.body.sendNow.map((s: any) => ({ sendId: s.sendId, status: 'sent', messageId: `m${s.sendId}@seller.example` })),
    });
    expect(rep.body.recorded).toBe(N);

    // Thursday: claims with keys on both replicas at once; A is killed while they run
    await setClock(a, '2026-12-10T10:00:00Z');
    await setClock(b, '2026-12-10T10:00:00Z');
    const keys = Array.from({ length: 20 }, (_, i) => `thu-claim-${i}`);
    const firstP = Promise.allSettled(
      keys.map((k, i) => callApi((i % 2 === 0 ? a : b).url, 'POST', '/v1/batches/claim', { size: 2, idempotencyKey: k })),
    );
    setTimeout(() => a.child.kill('SIGKILL'), 30);
    const first = await firstP;
    await exited(a.child);
    // every claim sent again to the survivor with its key: replayed or claimed now, never twice
    const again = await Promise.all(keys.map((k) => callApi(b.url, 'POST', '/v1/batches/claim', { size: 2, idempotencyKey: k })));
    expect(again.every((r) => r.status === 200)).toBe(true);
    for (const [i, r] of first.entries()) {
      if (r.status === 'fulfilled' && r.value.status === 200) expect(again[i]!.body.batchId).toBe(r.value.body.batchId);
    }
    const claimed = again.flatMap((r) => r.body.leads.map((l: any) => [l.id, l.step]));
    expect(claimed.every(([, step]: [string, number]) => step === 2)).toBe(true);
    expect(new Set(claimed.map(([id]: [string]) => id)).size).toBe(claimed.length);
    expect(claimed.map(([id]: [string]) => id).sort()).toEqual([...ids].sort());

    // gate them from a restarted A and from B at once, killing A again mid-way; then B once more
    await draft();
    const a2 = await startProcess(database.url!, SANDBOX);
    await setClock(a2, '2026-12-10T10:00:00Z');
    const gates = ids.map((id, i) => callApi((i % 2 === 0 ? a2 : b).url, 'POST', '/v1/gate', { leadIds: [id], idempotencyKey: `thu-gate-${id}` }));
    setTimeout(() => a2.child.kill('SIGKILL'), 50);
    await Promise.allSettled(gates);
    await exited(a2.child);
    const retry = await Promise.all(ids.map((id) => callApi(b.url, 'POST', '/v1/gate', { leadIds: [id], idempotencyKey: `thu-gate-${id}` })));
    expect(retry.every((r) => r.status === 200)).toBe(true);

    const steps = (await sql.query(`select lead_id::text, step, count(*)::int as n from sends group by 1, 2`)).rows;
    expect(steps.filter((r) => r.step === 2)).toHaveLength(N);
    expect(steps.every((r) => r.n === 1)).toBe(true);
    // the ledger agrees with the rows: Thursday's work is exactly the N step-2 sends
    const [day] = (await sql.query(`select claimed, scheduled, sent from sender_days where sender_id = 'default' and day = '2026-12-10'`)).rows;
    const [{ n }] = (await sql.query(`select count(*)::int as n from sends where day = '2026-12-10' and step = 2`)).rows;
    expect(n).toBe(N);
    expect(day.claimed + day.scheduled + day.sent).toBe(N);
    expect(day.claimed).toBe(0);
  }, 300_000);
});
