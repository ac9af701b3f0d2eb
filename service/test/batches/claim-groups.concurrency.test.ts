// Claims of a busy sender travel together: the ones that arrive while the
// sender's call runs go in the next call, and take their turns inside one
// transaction (claim_batches). These tests try to make the grouping show:
// wrong ledger answers inside a group, a failure leaking into other senders,
// a lost call wedging a sender, twins of one key on two sender-days.
import pg from 'pg';
import { claimBookkeepingGaps, importLeads, rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { postgresOnly } from '../support/database';

const onPostgres = !!process.env.TEST_DATABASE_URL;
const { test: testPg } = postgresOnly('calls cut off or held by another connection; PGlite is one connection');

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
  await importLeads(svc, 600);
});
afterAll(() => stopService(svc));

type Batch = { batchId: string; claimedToday: number; remainingToday: number; leads: { id: string }[] };
const claim = (body: unknown) => svc.api('POST', '/v1/batches/claim', body);

test('40 claims at once are answered as if taken one by one: each batch counts the batches before it', async () => {
  await svc.api('PUT', '/v1/senders/together', { dailyQuota: 200 });
  const answers = await Promise.all(Array.from({ length: 40 }, () => claim({ sender: 'together', size: 5 })));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));

  const batches = answers.map((a) => a.body as Batch).sort((x, y) => Number(x.leads[0]!.id) - Number(y.leads[0]!.id));
  expect(batches.map((b) => b.claimedToday)).toEqual(batches.map((_, i) => 5 * (i + 1)));
  expect(batches.map((b) => b.remainingToday)).toEqual(batches.map((_, i) => 200 - 5 * (i + 1)));
  const ids = batches.flatMap((b) => b.leads.map((l) => Number(l.id)));
  expect(ids).toEqual([...ids].sort((x, y) => x - y)); // later batches, later leads
  expect(new Set(ids).size).toBe(200);

  // On Postgres the claims really did travel together (one claim time per
  // call), or this test proved nothing. PGlite runs each call to the end on the
  // service's own thread, so no claim arrives while one runs: nothing to group.
  const calls = await rawSql(svc)("select count(distinct created_at)::int as n from batches where sender_id = 'together'");
  if (onPostgres) expect(calls[0].n).toBeLessThan(40);
});

test("an unknown sender's claims fail on their own; another sender's claims at the same time are untouched", async () => {
  const [unknown, known] = await Promise.all([
    Promise.all(Array.from({ length: 10 }, () => claim({ sender: 'nobody', size: 2 }))),
    Promise.all(Array.from({ length: 10 }, () => claim({ sender: 'default', size: 2 }))),
  ]);
  expect(unknown.map((a) => [a.status, a.body.code])).toEqual(unknown.map(() => [404, 'sender_not_found']));
  expect(known.map((a) => a.status)).toEqual(known.map(() => 200));
  expect(new Set(known.flatMap((a) => a.body.leads.map((l: { id: string }) => l.id))).size).toBe(20);
});

test('the same idempotency key several times in one burst: one batch, the others replay it', async () => {
  const answers = await Promise.all(
    Array.from({ length: 12 }, (_, i) => claim({ size: 3, idempotencyKey: i % 2 === 0 ? 'burst-even' : 'burst-odd' })),
  );
  for (const key of ['burst-even', 'burst-odd']) {
    const same = answers.filter((_, i) => (i % 2 === 0 ? 'burst-even' : 'burst-odd') === key).map((a) => a.body);
    expect(new Set(same.map((b) => b.batchId)).size).toBe(1);
    expect(same.filter((b) => !b.replayed)).toHaveLength(1);
    expect(new Set(same.map((b) => JSON.stringify(b.leads)))).toEqual(new Set([JSON.stringify(same[0].leads)]));
  }
});

testPg("a claim call cut off in the database fails its own claims only: the sender's next claims go through, nothing is lost", async () => {
  const admin = new pg.Client({ connectionString: svc.database.url });
  await admin.connect();
  try {
    await svc.api('PUT', '/v1/senders/cutoff', { dailyQuota: 300 });
    // hold the sender-day's ledger row so the first call waits in the database
    // and the claims behind it pile up in the service
    await claim({ sender: 'cutoff', size: 1 });
    await admin.query('begin');
    await admin.query("select * from sender_days where sender_id = 'cutoff' for update");
    const first = claim({ sender: 'cutoff', size: 4 });
    const waitingBackend = async (): Promise<number> => {
      for (;;) {
        const r = await rawSql(svc)(
          `select pid from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid()
              and query like '%claim_batches%' and wait_event_type = 'Lock'`,
        );
        if (r.length > 0) return r[0].pid;
        await new Promise((res) => setTimeout(res, 10));
      }
    };
    const pid = await waitingBackend();
    const behind = Array.from({ length: 8 }, () => claim({ sender: 'cutoff', size: 4 }));
    await new Promise((res) => setTimeout(res, 50)); // the eight are in the service, waiting for the first call
    await rawSql(svc)('select pg_terminate_backend($1)', [pid]);
    await admin.query('commit');

    const cut = await first;
    expect(cut.status).toBe(503);
    expect(cut.body.code).toBe('database_unavailable');
    const rest = await Promise.all(behind);
    expect(rest.map((a) => a.status)).toEqual(rest.map(() => 200));
    const got = rest.flatMap((a) => a.body.leads.map((l: { id: string }) => l.id));
    expect(new Set(got).size).toBe(32);

    // the cut-off call took nothing: the ledger counts exactly what the answers hold
    const day = await rawSql(svc)("select sum(claimed)::int as n from sender_days where sender_id = 'cutoff'");
    expect(day[0].n).toBe(1 + 32);
    expect(await claimBookkeepingGaps(svc)).toEqual({ unqueued: [], unsweepable: [] });
  } finally {
    await admin.end();
  }
});

testPg("twins of one idempotency key on two sender-days (around the sender's midnight): the second replays the first", async () => {
  await svc.api('PUT', '/v1/senders/midnight', { dailyQuota: 50, timezone: 'UTC' });
  const before = new Date('2027-05-03T23:59:59.500Z');
  const after = new Date('2027-05-04T00:00:00.500Z');
  const a = new pg.Client({ connectionString: svc.database.url });
  await a.connect();
  try {
    await a.query('begin');
    const first = (await a.query("select claim_batch('midnight', 3, 'twin', 3600, $1) as r", [before])).rows[0].r;
    // the twin on the next day waits for the first (it holds the key), then sees its batch
    const second = svc.deps.db.call<Batch & { replayed: boolean; day: string }>('claim_batch', {
      p_sender: 'midnight',
      p_size: 3,
      p_idempotency_key: 'twin',
      p_now: after,
    });
    await new Promise((res) => setTimeout(res, 100));
    await a.query('commit');
    const twin = await second;
    expect(twin).toMatchObject({ batchId: first.batchId, replayed: true, day: '2027-05-03' });
    expect(twin.leads).toEqual(first.leads);
    const days = await rawSql(svc)(
      "select to_char(day, 'YYYY-MM-DD') as day, claimed from sender_days where sender_id = 'midnight' order by day",
    );
    expect(days.filter((d) => d.claimed > 0)).toEqual([{ day: '2027-05-03', claimed: 3 }]);
  } finally {
    await a.end();
  }
});

testPg("a claim stuck behind a held quota row gives up with 503 database_timeout and the sender's next claims still go through", async () => {
  const quick = await startTestService({ DATABASE_QUERY_TIMEOUT_MS: '400' }, svc.database);
  const admin = new pg.Client({ connectionString: svc.database.url });
  await admin.connect();
  try {
    await quick.api('PUT', '/v1/senders/stuck', { dailyQuota: 50 });
    await quick.api('POST', '/v1/batches/claim', { sender: 'stuck', size: 1 });
    await admin.query('begin');
    await admin.query("select * from sender_days where sender_id = 'stuck' for update");
    const started = Date.now();
    const first = await quick.api('POST', '/v1/batches/claim', { sender: 'stuck', size: 2 });
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ code: 'database_timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    await admin.query('commit');
    const next = await quick.api('POST', '/v1/batches/claim', { sender: 'stuck', size: 2 });
    expect(next.status).toBe(200);
    // the abandoned call may still have finished in the database once the row
    // was free (its leads wait for their lease, as any claim nobody composed)
    expect([3, 5]).toContain(next.body.claimedToday);
    const twice = await rawSql(svc)(
      'select count(*)::int as n from (select l from batches b, unnest(b.lead_ids) l group by l having count(*) > 1) t',
    );
    expect(twice[0].n).toBe(0);
  } finally {
    await admin.end();
    await quick.stop();
  }
});
