// Lock order where events meet the send side (Postgres only: PGlite is one
// connection). claim-due and report lock a send, then its lead; a reply locked
// the lead, then waited for the lead's sends: a reply arriving while claim-due
// held the lead's send deadlocked, and Postgres failed one of them (a 500).
import pg from 'pg';
import { runSweep } from '../../src/sweeper/sweeper';
import { composedLeads, gateAt } from '../gate/gate-fixture';
import { stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { postgresOnly } from '../support/database';

const { test: testPg } = postgresOnly('a lock held by another connection; PGlite is one connection');

let svc: TestService | undefined;
afterAll(() => stopService(svc));

testPg('a reply while another request holds the lead\'s send: no deadlock, both finish, the send never goes out', async () => {
  svc = await startTestService();
  const [id] = await composedLeads(svc, [{ email: 'lock@hold.example', timezone: 'UTC' }]);
  const gated = await gateAt(svc, [id!], new Date('2026-12-08T07:00:00Z'));
  const sendId = gated.scheduled[0].sendId;

  const other = new pg.Client({ connectionString: svc.database.url });
  await other.connect();
  try {
    // another request (claim-due) has picked the send and will update its lead next
    await other.query('begin');
    await other.query('select id from sends where id = $1 for update', [sendId]);
    const reply = svc.api('POST', '/v1/events', { kind: 'reply', email: 'lock@hold.example', text: 'Call me' });
    await new Promise((r) => setTimeout(r, 300));
    let otherError: unknown;
    try {
      await other.query("update leads set updated_at = now() where id = $1", [id]);
      await other.query('commit');
    } catch (err) {
      otherError = err;
      await other.query('rollback');
    }
    const r = await reply;
    expect(otherError).toBeUndefined();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ leadId: id, status: 'replied' });
  } finally {
    await other.end();
  }

  // the send the reply could not take is never handed out, and the sweeper cancels it
  const due = await svc.deps.db.call<any>('claim_due_sends', { p_now: new Date('2026-12-08T09:05:00Z') });
  expect(due.sends).toEqual([]);
  await runSweep(svc.deps, new Date('2026-12-08T09:06:00Z'));
  expect((await svc.api('GET', `/v1/sends?leadId=${id}`)).body.sends[0].status).toBe('cancelled');
});
