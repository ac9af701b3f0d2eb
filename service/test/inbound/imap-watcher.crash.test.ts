// kill -9 while the watcher is recording a mailbox full of mail, start again:
// every message is recorded exactly once. Then a second replica: only one
// watches the mailbox, and it takes over when the holder dies.
import { killAll, startProcess } from '../batches/service-processes';
import { postgresOnly, createTestDatabase, sqlPool, type TestDatabase } from '../support/database';
import { callApi } from '../support/test-service';
import type pg from 'pg';
import { startDovecot, PASSWORD, type Dovecot } from './dovecot';

const MAILBOX = 'ops@outreach.test';
const MESSAGES = 300;
let db: TestDatabase;
let dovecot: Dovecot;
let sql: pg.Pool;

// several service processes share one database: Postgres only (PGlite is one process's)
const { describe: describePg } = postgresOnly('several service processes share one database; PGlite is one process');

describePg('the watcher across processes', () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    sql = sqlPool(db.url!);
    dovecot = await startDovecot([MAILBOX]);
  });
  afterAll(async () => {
    killAll();
    await sql?.end();
    await dovecot?.cleanup();
    await db?.drop();
  });

  const count = async (q: string) => Number((await sql.query(q)).rows[0].n);
  async function until(label: string, ok: () => Promise<boolean>, ms = 90_000) {
    const end = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`timed out: ${label}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  const env = { COROFY_IMAP_SCAN_INTERVAL_MS: '200', COROFY_IMAP_LEASE_SECONDS: '5', COROFY_IMAP_POLL_SECONDS: '1' };

  test('kill -9 while processing: after a restart nothing is missed and nothing is recorded twice', async () => {
    await dovecot.append(
      MAILBOX,
      Array.from({ length: MESSAGES }, (_, i) => `From: person${i}@elsewhere.test\r\nTo: ${MAILBOX}\r\nSubject: note ${i}\r\nMessage-ID: <note-${i}@elsewhere.test>\r\n\r\nHello ${i}\r\n`),
    );
    const first = await startProcess(db.url!, env);
    const put = await callApi(first.url, 'PUT', '/v1/senders/default', {
      imap: { host: dovecot.host, port: dovecot.port, tls: 'none', user: MAILBOX, password: PASSWORD },
    });
    expect(put.status).toBe(200);
    await until('some messages recorded', async () => (await count('select count(*) as n from inbound_messages')) >= 20);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const atKill = await count('select count(*) as n from inbound_messages');
    expect(atKill).toBeLessThan(MESSAGES);

    // the dead holder's lease runs out; the next process takes the mailbox over
    await startProcess(db.url!, env);
    await until('every message recorded', async () => (await count('select count(*) as n from inbound_messages')) === MESSAGES);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await count('select count(*) as n from inbound_messages')).toBe(MESSAGES);
    expect(await count("select last_uid as n from mailbox_folders where sender_id = 'default' and folder = 'INBOX'")).toBe(MESSAGES);
  }, 240_000);

  test('two replicas: one watches the mailbox at a time', async () => {
    await startProcess(db.url!, env);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await count("select count(*) as n from mailbox_watch where sender_id = 'default' and holder is not null and lease_expires_at > now()")).toBe(1);
    await dovecot.append(MAILBOX, `From: late@elsewhere.test\r\nTo: ${MAILBOX}\r\nSubject: late\r\nMessage-ID: <late@elsewhere.test>\r\n\r\nhi\r\n`);
    await until('the late message', async () => (await count("select count(*) as n from inbound_messages where message_key = '<late@elsewhere.test>'")) === 1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await count('select count(*) as n from inbound_messages')).toBe(MESSAGES + 1);
  }, 120_000);
});
