// A real deadlock between a request of the service and another connection:
// Postgres breaks it by rolling one of the two back. When the service's call is
// the one rolled back, nothing of it happened, so the service sends it again and
// the request still answers 200 — never a 500, and nothing lost on either side.
import type pg from 'pg';
import { postgresOnly, sqlPool, stopService } from '../support/database';
import { startTestService, type TestService } from '../support/test-service';

const { test: testPg } = postgresOnly('a deadlock needs two connections; PGlite is one connection');

let svc: TestService | undefined;
let other: pg.Pool | undefined;
afterEach(async () => {
  await other?.end();
  other = undefined;
  await stopService(svc);
  svc = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

testPg('a request Postgres rolls back to break a deadlock is sent again and answers 200 with its own values, applied after the other transaction', async () => {
  svc = await startTestService();
  await svc.api('PUT', '/v1/senders/alpha', { fromName: 'Alpha', unsubscribeEmail: 'stop@alpha.test' });
  other = sqlPool(svc.database.url!, 3);
  const holder = await other.connect();
  try {
    // The other connection holds the sender's mailbox row...
    await holder.query('begin');
    await holder.query("set local deadlock_timeout = '5s'"); // so the service's side is the one that detects it
    await holder.query("update mailboxes set unsubscribe_email = 'other@alpha.test' where sender_id = 'alpha'");

    // ...while PUT /v1/senders locks the sender row (put_sender: senders, then mailboxes)
    // and waits for the mailbox row.
    const put = svc.api('PUT', '/v1/senders/alpha', { fromName: 'Alpha Renamed', unsubscribeEmail: 'stop2@alpha.test' });
    for (let i = 0; ; i++) {
      const [{ n }] = (
        await other.query(
          "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%put_sender%'",
        )
      ).rows;
      if (n > 0) break;
      if (i > 200) throw new Error('the PUT never waited for the mailbox row');
      await sleep(25);
    }
    // Now the other connection wants the sender row the PUT holds: a deadlock by
    // construction (each waits for the other). Postgres rolls the PUT's call back
    // (its side detects it first); this update goes through. Without the service
    // sending the call again the PUT would fail here.
    await holder.query("update senders set from_name = 'Changed Elsewhere' where id = 'alpha'");
    await holder.query('commit');

    const answer = await put;
    expect(answer.status).toBe(200);
    // the PUT ran again after the other transaction: its values are the last ones
    expect(answer.body.fromName).toBe('Alpha Renamed');
    expect(answer.body.unsubscribeEmail).toBe('stop2@alpha.test');
  } finally {
    holder.release();
  }
});
