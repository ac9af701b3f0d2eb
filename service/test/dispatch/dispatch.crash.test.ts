// kill -9 of the service at every step of an SMTP transaction, and a second
// replica taking the mailbox over. Postgres only: PGlite is one process by design.
import type pg from 'pg';
import { exited, killAll, startProcess, type ServiceProcess } from '../batches/service-processes';
import { postgresOnly, createTestDatabase, sqlPool, type TestDatabase } from '../support/database';
import { composeLeads } from '../support/leads';
import { callApi } from '../support/test-service';
import { waitFor } from './dispatch-kit';
import { startSmtpSink, type SmtpSink } from './smtp-fixture';

const { describe: describePg } = postgresOnly('service processes killed and replaced on one database; PGlite is one process');

let database: TestDatabase;
let sink: SmtpSink;
let sql: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink({ users: { 'ana@acme.test': 'mailbox-pw' } });
  sql = sqlPool(database.url!);
});
afterAll(async () => {
  killAll();
  await sql?.end();
  await sink?.close();
  await database?.drop();
});

const ENV = {
  COROFY_DISPATCH_INTERVAL_MS: '100',
  COROFY_MAILBOX_LEASE_SECONDS: '5',
  COROFY_SEND_LEASE_SECONDS: '2',
  // a fresh connection per message, so every step (connect, login) happens for each send
  COROFY_SMTP_MAX_MESSAGES_PER_CONNECTION: '1',
  COROFY_SWEEP_INTERVAL_MS: '300',
  COROFY_PUBLIC_URL: 'https://corofy.example.test',
};

/** Imports one lead, claims and composes it, and gates it: for a corofy sender it goes to the dispatcher. */
async function gateOne(p: ServiceProcess, email: string): Promise<string> {
  const imp = await callApi(p.url, 'POST', '/v1/leads/import', { leads: [{ email, timezone: 'UTC' }] });
  const leadId = imp.body.leadIds[0];
  const claim = await callApi(p.url, 'POST', '/v1/batches/claim', { size: 1 });
  expect(claim.body.leads.map((l: { id: string }) => l.id)).toEqual([leadId]);
  await composeLeads(async (text, params) => (await sql.query(text, params)).rows, [leadId]);
  const gate = await callApi(p.url, 'POST', '/v1/gate', { leadIds: [leadId] });
  expect(gate.status).toBe(200);
  expect(gate.body.delivery).toBe('corofy');
  expect(gate.body.sendNow).toHaveLength(1);
  expect(gate.body.sendNow[0].status).toBe('scheduled');
  return gate.body.sendNow[0].sendId;
}

async function statusOf(sendId: string): Promise<string> {
  return (await sql.query('select status from sends where id = $1', [sendId])).rows[0].status;
}

describePg('kill -9 during SMTP', () => {
  test('at every step of the transaction: never a second email; the unknown outcome is needs_review; the next replica takes the mailbox over', async () => {
    let a = await startProcess(database.url!, ENV);
    const put = await callApi(a.url, 'PUT', '/v1/senders/default', {
      fromName: 'Ana', fromEmail: 'ana@acme.test', delivery: 'corofy', timezone: 'UTC', skipHolidays: false,
      window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' },
      smtp: { host: '127.0.0.1', port: sink.port, tls: 'none', user: 'ana@acme.test', password: 'mailbox-pw' },
    });
    expect(put.status).toBe(200);

    for (const step of ['connect', 'auth', 'mail', 'rcpt', 'body'] as const) {
      const victim = `victim-${step}@client.test`;
      let killed = false;
      const dying = a;
      sink.onStep = async (at, session) => {
        if (at !== step || killed) return;
        if (at !== 'connect' && at !== 'auth' && session.envelope.rcptTo.length > 0 && session.envelope.rcptTo[0]!.address !== victim) return;
        killed = true;
        dying.child.kill('SIGKILL');
        await exited(dying.child);
      };
      const sendId = await gateOne(a, victim);
      await waitFor(`kill at ${step}`, async () => killed, 30_000);
      sink.onStep = undefined;

      // a new replica: the dead one's mailbox lease runs out and it takes over
      a = await startProcess(database.url!, ENV);
      await waitFor(`${step}: outcome settled`, async () => (await statusOf(sendId)) === 'needs_review', 30_000);
      const next = await gateOne(a, `after-${step}@client.test`);
      await waitFor(`${step}: the next send goes out`, async () => (await statusOf(next)) === 'sent', 30_000);

      const got = sink.received.filter((m) => m.to[0] === victim).length;
      expect(got).toBe(step === 'body' ? 1 : 0);
      expect(sink.received.filter((m) => m.to[0] === `after-${step}@client.test`)).toHaveLength(1);
    }
    // settle time for anything that would wrongly go out again
    await new Promise((r) => setTimeout(r, 1500));
    const counts = new Map<string, number>();
    for (const m of sink.received) counts.set(m.to[0]!, (counts.get(m.to[0]!) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const review = await callApi(a.url, 'GET', '/v1/sends?status=needs_review');
    expect(review.body.sends.map((s: { to: string }) => s.to).sort()).toEqual(
      ['auth', 'body', 'connect', 'mail', 'rcpt'].map((s) => `victim-${s}@client.test`),
    );
  }, 300_000); // five crashes, five process starts and five lease takeovers on a shared machine
});
