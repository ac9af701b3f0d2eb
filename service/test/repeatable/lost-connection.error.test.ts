// A request whose database connection is lost before the server answered: the
// service sends a call that is safe to repeat once more on a fresh connection,
// and answers any other one 503 with Retry-After (it cannot know whether it
// committed). Postgres only: PGlite runs in-process and has no connection to lose.
import pg from 'pg';
import { importLeads, rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { postgresOnly } from '../support/database';

const { test: testPg } = postgresOnly('connections cut by the server; PGlite has none to cut');

let svc: TestService;
let admin: pg.Client;

beforeAll(async () => {
  svc = await startTestService();
  if (svc.database.kind === 'postgres') {
    admin = new pg.Client({ connectionString: svc.database.url });
    admin.on('error', () => undefined);
    await admin.connect();
  }
}, 60_000);

afterAll(async () => {
  await admin?.end();
  await stopService(svc);
});

/** The service's backend that waits for a lock while running `fn`. */
async function waitingBackend(fn: string, notPid?: number): Promise<number> {
  for (;;) {
    const r = await rawSql(svc)(
      `select pid from pg_stat_activity
        where datname = current_database() and application_name = 'corofy'
          and query like $1 and wait_event_type = 'Lock' and pid <> coalesce($2, 0)`,
      [`%${fn}%`, notPid ?? null],
    );
    if (r.length > 0) return r[0].pid;
    await new Promise((res) => setTimeout(res, 10));
  }
}

const kill = (pid: number) => rawSql(svc)('select pg_terminate_backend($1)', [pid]);

testPg('an event whose connection was cut mid-call is recorded on a fresh connection: 200, one event, the lead stopped', async () => {
  const [leadId] = await importLeads(svc, 1, 'cut-event');
  await admin.query('begin');
  await admin.query('select * from leads where id = $1 for update', [leadId]);
  const answer = svc.api('POST', '/v1/events', { kind: 'reply', email: 'cut-event0@example.com', text: 'Interested' });
  const pid = await waitingBackend('record_event');
  await kill(pid);
  // the call is sent again on a new connection, which waits for the lock too
  await waitingBackend('record_event', pid);
  await admin.query('rollback');

  const r = await answer;
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ leadId, status: 'replied', duplicate: false });
  const events = await rawSql(svc)(`select count(*)::int as n from events where email = 'cut-event0@example.com'`);
  expect(events[0].n).toBe(1);
  expect((await svc.api('GET', `/v1/leads/${leadId}`)).body.status).toBe('replied');
});

testPg('a claim with an idempotency key cut mid-call is claimed once, on a fresh connection', async () => {
  await importLeads(svc, 3, 'cut-claim');
  await svc.api('PUT', '/v1/senders/cutkey', { dailyQuota: 10 });
  await svc.api('POST', '/v1/batches/claim', { sender: 'cutkey', size: 1, idempotencyKey: 'warm-up' });
  await admin.query('begin');
  await admin.query("select * from sender_days where sender_id = 'cutkey' for update");
  const answer = svc.api('POST', '/v1/batches/claim', { sender: 'cutkey', size: 2, idempotencyKey: 'exec-cut' });
  const pid = await waitingBackend('claim_batches');
  await kill(pid);
  await waitingBackend('claim_batches', pid);
  await admin.query('rollback');

  const r = await answer;
  expect(r.status).toBe(200);
  expect(r.body.leads).toHaveLength(2);
  const again = await svc.api('POST', '/v1/batches/claim', { sender: 'cutkey', size: 2, idempotencyKey: 'exec-cut' });
  expect(again.body.batchId).toBe(r.body.batchId);
  expect((await svc.api('GET', '/v1/stats?sender=cutkey')).body.claimed).toBe(3);
});

testPg('a claim without a key cut mid-call is a 503 with Retry-After, and nothing is claimed', async () => {
  await importLeads(svc, 3, 'cut-nokey');
  await svc.api('PUT', '/v1/senders/cutnokey', { dailyQuota: 10 });
  await svc.api('POST', '/v1/batches/claim', { sender: 'cutnokey', size: 1 });
  await admin.query('begin');
  await admin.query("select * from sender_days where sender_id = 'cutnokey' for update");
  const answer = svc.api('POST', '/v1/batches/claim', { sender: 'cutnokey', size: 2 });
  await kill(await waitingBackend('claim_batches'));
  const r = await answer;
  await admin.query('rollback');

  expect(r.status).toBe(503);
  expect(r.body.code).toBe('database_unavailable');
  expect(r.headers.get('retry-after')).toBe('2');
  expect((await svc.api('GET', '/v1/stats?sender=cutnokey')).body.claimed).toBe(1);
});

testPg('a repeatable call cut twice is sent only once more: the second loss is a 503 with Retry-After', async () => {
  const [leadId] = await importLeads(svc, 1, 'cut-twice');
  await admin.query('begin');
  await admin.query('select * from leads where id = $1 for update', [leadId]);
  const answer = svc.api('POST', '/v1/events', { kind: 'reply', email: 'cut-twice0@example.com', text: 'Hello' });
  const first = await waitingBackend('record_event');
  await kill(first);
  await kill(await waitingBackend('record_event', first));
  const r = await answer;
  await admin.query('rollback');

  expect(r.status).toBe(503);
  expect(r.body.code).toBe('database_unavailable');
  expect(r.headers.get('retry-after')).toBe('2');
  expect((await svc.api('GET', `/v1/leads/${leadId}`)).body.status).toBe('new');
});
