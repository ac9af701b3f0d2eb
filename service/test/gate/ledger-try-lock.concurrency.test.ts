// The gate holds lead rows when it may still need a quota row it did not lock
// up front; it takes that row with ledger_try_lock, which never waits (waiting
// there could close a cycle with a request holding the quota row and waiting
// for the lead). Postgres only: it needs two connections.
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestService, type TestService } from '../support/test-service';
import { postgresOnly } from '../support/database';

const { describe: describePg } = postgresOnly('two connections hold and try one ledger row; PGlite is one connection');

describePg('ledger_try_lock', () => {
  let database: TestDatabase;
  let svc: TestService;
  let holder: pg.Client;
  let other: pg.Client;
  beforeAll(async () => {
    database = await createTestDatabase();
    svc = await startTestService({}, database);
    await svc.api('PUT', '/v1/senders/tl', { dailyQuota: 7 });
    holder = new pg.Client({ connectionString: database.url });
    other = new pg.Client({ connectionString: database.url });
    await holder.connect();
    await other.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await other?.end();
    await svc?.stop();
    await database?.drop();
  });

  test('returns null at once for a row another transaction holds, and the row itself for its own transaction', async () => {
    await holder.query('begin');
    const own = await holder.query("select (ledger_lock('tl', '2027-01-04')).quota as q");
    expect(own.rows[0].q).toBe(7);
    expect((await holder.query("select (ledger_try_lock('tl', '2027-01-04')).quota as q")).rows[0].q).toBe(7);

    // the holder created that day's row and has not committed: the other
    // transaction cannot even see it, and must not wait for the insert either
    await other.query('begin');
    let started = Date.now();
    const creating = await other.query("select (ledger_try_lock('tl', '2027-01-04')).sender_id as s");
    expect(creating.rows[0].s).toBeNull();
    expect(Date.now() - started).toBeLessThan(1000); // did not wait for the holder
    await other.query('commit');
    await holder.query('commit');

    // a committed row another transaction holds: busy at once
    await holder.query('begin');
    await holder.query("select ledger_lock('tl', '2027-01-04')");
    await other.query('begin');
    started = Date.now();
    const busy = await other.query("select (ledger_try_lock('tl', '2027-01-04')).sender_id as s");
    expect(busy.rows[0].s).toBeNull();
    expect(Date.now() - started).toBeLessThan(1000);
    // a day nobody has yet is created and locked
    const fresh = await other.query("select (ledger_try_lock('tl', '2027-01-05')).quota as q");
    expect(fresh.rows[0].q).toBe(7);
    await other.query('commit');
    await holder.query('commit');
  });
});
