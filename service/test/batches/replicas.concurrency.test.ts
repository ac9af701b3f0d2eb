// Several service processes on one Postgres database, and kill -9 in the middle
// of claims and reports. Postgres only: PGlite is one process by design.
import pg from 'pg';
import { callApi } from '../support/test-service';
import { postgresOnly, createTestDatabase, sqlPool, type TestDatabase } from '../support/database';
import { scheduleSends } from '../support/leads';
import { exited, killAll, startProcess, type ServiceProcess } from './service-processes';

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

async function importLeads(p: ServiceProcess, n: number) {
  const leads = Array.from({ length: n }, (_, i) => ({ email: `person${i}@example.com` }));
  const r = await callApi(p.url, 'POST', '/v1/leads/import', { leads });
  expect(r.status).toBe(200);
  return r.body.leadIds as string[];
}

describePg('replicas', () => {
  test('50 concurrent claims through 3 service processes: exactly 400 distinct leads, lowest first', async () => {
    const procs = await Promise.all([0, 1, 2].map(() => startProcess(database.url!)));
    const ids = await importLeads(procs[0]!, 1000);
    const sizes = [1, 3, 10, 25, 40, 7, undefined];
    const requests = Array.from({ length: 50 }, (_, i) => ({
      size: sizes[i % sizes.length],
      idempotencyKey: i % 6 === 0 ? 'shared-a' : i % 4 === 1 ? undefined : `key-${i}`,
    }));
    const answers = await Promise.all(
      requests.map((body, i) => callApi(procs[i % 3]!.url, 'POST', '/v1/batches/claim', body)),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const batches = new Map<string, string[]>();
    for (const a of answers) batches.set(a.body.batchId, a.body.leads.map((l: { id: string }) => l.id));
    expect(new Set(answers.filter((_, i) => requests[i]!.idempotencyKey === 'shared-a').map((a) => a.body.batchId)).size).toBe(1);
    const claimed = [...batches.values()].flat();
    expect(claimed).toHaveLength(400);
    expect(new Set(claimed).size).toBe(400);
    expect([...claimed].sort((a, b) => Number(a) - Number(b))).toEqual(ids.slice(0, 400));
  });

  test('kill -9 while claims and reports are in flight: no lead lost or handed out twice; expired sending → needs_review', async () => {
    const env = { COROFY_SEND_LEASE_SECONDS: '2', COROFY_CLAIM_LEASE_SECONDS: '3600' };
    let a = await startProcess(database.url!, env);
    const b = await startProcess(database.url!, env);
    await importLeads(a, 600);
    const pool = sqlPool(database.url!);
    sql = pool;
    const query = async (text: string, params?: unknown[]) => (await pool.query(text, params)).rows;

    // 200 sends due now, composed and gated by the product's own functions
    const first = await callApi(a.url, 'POST', '/v1/batches/claim', { size: 200 });
    const now = Date.now();
    await scheduleSends(query, first.body.leads.map((l: { id: string }) => l.id), new Date(now - 60_000), new Date(now + 3_600_000));

    const batchLeads: string[] = [];
    const leasedSends: string[] = [];
    const reported = new Set<string>();
    let stop = false;
    let cutOff = 0;
    const worker = async (p: () => ServiceProcess, n: number) => {
      while (!stop) {
        try {
          if (n % 2 === 0) {
            const r = await callApi(p().url, 'POST', '/v1/batches/claim', { size: 3 });
            if (r.status === 200) batchLeads.push(...r.body.leads.map((l: { id: string }) => l.id));
          } else {
            const r = await callApi(p().url, 'POST', '/v1/sends/claim-due', { limit: 4 });
            if (r.status !== 200) continue;
            const ids: string[] = r.body.sends.map((s: { sendId: string }) => s.sendId);
            leasedSends.push(...ids);
            // report only some of them: the rest stay leased (a crashed sender)
            const results = ids.filter((_, i) => i % 2 === 0).map((sendId) => ({ sendId, status: 'sent' }));
            if (results.length > 0) {
              const rep = await callApi(p().url, 'POST', '/v1/sends/report', { results });
              if (rep.status === 200) results.forEach((x) => reported.add(x.sendId));
            }
          }
        } catch {
          // the process we talked to was killed: the outcome of that request is unknown
          cutOff += 1;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const workers = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => worker(() => (n < 4 ? a : b), n));
    await new Promise((r) => setTimeout(r, 700));
    a.child.kill('SIGKILL');
    await exited(a.child);
    await new Promise((r) => setTimeout(r, 300));
    a = await startProcess(database.url!, { ...env, COROFY_SWEEP_INTERVAL_MS: '300' });
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(workers);
    expect(cutOff).toBeGreaterThan(0); // the kill really hit requests in flight
    expect(batchLeads.length).toBeGreaterThan(0);
    expect(reported.size).toBeGreaterThan(0);

    // none handed out twice
    expect(new Set(batchLeads).size).toBe(batchLeads.length);
    expect(new Set(leasedSends).size).toBe(leasedSends.length);
    const inTwoBatches = await pool.query(
      'select l from batches b, unnest(b.lead_ids) l group by l having count(*) > 1',
    );
    expect(inTwoBatches.rows).toEqual([]);

    // the restarted service's sweeper turns every expired lease into needs_review, never back to the queue
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const { rows } = await pool.query("select count(*)::int as n from sends where status = 'sending'");
      if (rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const { rows: sends } = await pool.query('select id::text, status from sends');
    const status = new Map(sends.map((s) => [s.id as string, s.status as string]));
    for (const id of leasedSends) expect(['sent', 'needs_review']).toContain(status.get(id));
    for (const id of reported) expect(status.get(id)).toBe('sent');
    expect([...status.values()].filter((s) => s === 'sending')).toEqual([]);
    const needsReview = [...status.values()].filter((s) => s === 'needs_review').length;
    expect(needsReview).toBeGreaterThan(0);
    // a leased send is never handed out again
    const again = await callApi(b.url, 'POST', '/v1/sends/claim-due', { limit: 500 });
    for (const s of again.body.sends) expect(leasedSends).not.toContain(s.sendId);

    // no lead lost: every lead is new, claimed in exactly one batch, or has its send; the ledger agrees
    const { rows: leads } = await pool.query(`
      select l.status, count(*)::int as n,
             count(*) filter (where l.batch_id is not null and exists (select 1 from batches b where b.id = l.batch_id and l.id = any(b.lead_ids)))::int as in_batch
        from leads l group by 1 order by 1`);
    const total = leads.reduce((s, r) => s + r.n, 0);
    expect(total).toBe(600);
    const claimed = leads.find((r) => r.status === 'claimed');
    expect(claimed?.in_batch).toBe(claimed?.n);
    // every lead a client received is still held for it (claimed, in its batch)
    const { rows: held } = await pool.query("select id::text from leads where status = 'claimed'");
    const heldIds = new Set(held.map((r) => r.id as string));
    for (const id of batchLeads) expect(heldIds.has(id)).toBe(true);
    const { rows: ledger } = await pool.query('select sum(claimed)::int as c, sum(scheduled)::int as s, sum(sent)::int as t from sender_days');
    expect(ledger[0]).toEqual({
      c: claimed?.n ?? 0,
      s: [...status.values()].filter((s) => s === 'scheduled').length,
      t: [...status.values()].filter((s) => s === 'sent' || s === 'needs_review').length,
    });
    const c = await callApi(b.url, 'GET', '/v1/stats');
    expect(c.body.needsReview).toBe(needsReview);
  });
});
