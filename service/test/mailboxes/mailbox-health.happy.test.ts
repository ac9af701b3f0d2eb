// The health of a sender's mailbox in GET /v1/senders/:id (mailbox.outbound,
// mailbox.inbound): what the last verify said, what the SMTP server said in the
// last transaction that failed, whether the mailbox is driven or paused, and
// the IMAP watcher's state — from a real SMTP server and a closed IMAP port.
// (The watcher connected to a real Dovecot: service/test/inbound/imap-watcher.test.ts.)
import net from 'node:net';
import { DISPATCH_ENV, dueSends, useCorofyDelivery, waitFor } from '../dispatch/dispatch-kit';
import { startSmtpSink, type SmtpSink } from '../dispatch/smtp-fixture';
import { stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink({ users: { 'ana@acme.test': 'mailbox-pw' } });
  svc = await startTestService({ ...DISPATCH_ENV, COROFY_IMAP_SCAN_INTERVAL_MS: '200', COROFY_IMAP_LEASE_SECONDS: '10' });
}, 180_000); // the embedded database starts slowly on a loaded machine
afterAll(async () => {
  await stopService(svc);
  await sink?.close();
});

const mailboxOf = async (id: string) => (await svc.api('GET', `/v1/senders/${id}`)).body.mailbox;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

test('a sender without mailbox settings has no mailbox health', async () => {
  await svc.api('PUT', '/v1/senders/plain', { dailyQuota: 10 });
  expect(await mailboxOf('plain')).toEqual({ inbound: null, outbound: null });
  const listed = (await svc.api('GET', '/v1/senders')).body.senders.find((s: { id: string }) => s.id === 'plain');
  expect(listed.mailbox).toEqual({ inbound: null, outbound: null });
});

test('outbound: driven by the dispatcher, the last verify, the last failed SMTP transaction', async () => {
  await useCorofyDelivery(svc, sink.port);
  const fresh = await waitFor('driven', async () => {
    const m = await mailboxOf('default');
    return m.outbound?.driven && m;
  });
  expect(fresh).toEqual({
    inbound: null,
    outbound: { driven: true, paused: false, lastVerify: null, lastError: null, lastErrorAt: null, lastErrorKind: null, lastErrorSendId: null },
  });

  expect((await svc.api('POST', '/v1/senders/default/verify')).status).toBe(200);
  const verified = (await mailboxOf('default')).outbound.lastVerify;
  expect(verified).toEqual({ at: expect.any(String), ok: true, code: null, detail: null });

  const now = Date.now();
  const sends = await dueSends(svc, ['fine@client.test', 'temp@client.test'], new Date(now - 1000), new Date(now + 3600_000));
  const temp = sends.find((s) => s.to === 'temp@client.test');
  const failed = await waitFor('the 451 in the health', async () => {
    const m = await mailboxOf('default');
    return m.outbound.lastError && m.outbound;
  });
  expect(failed).toMatchObject({ driven: true, paused: false, lastErrorKind: 'retry', lastErrorSendId: temp.sendId });
  expect(failed.lastError).toMatch(/^451 4\.3\.0/);
  expect(Date.parse(failed.lastErrorAt)).toBeGreaterThanOrEqual(Date.parse(verified.at));
});

test('outbound: a refused login shows in the last verify and pauses the mailbox; the sends it never tried are not its last error', async () => {
  await useCorofyDelivery(svc, sink.port, { password: 'wrong-password' });
  const verify = await svc.api('POST', '/v1/senders/default/verify');
  expect(verify.body.code).toBe('smtp_auth_failed');
  const afterVerify = (await mailboxOf('default')).outbound;
  expect(afterVerify.lastVerify).toMatchObject({ ok: false, code: 'smtp_auth_failed', detail: expect.stringMatching(/535/) });

  const now = Date.now();
  const [first] = await dueSends(svc, ['login1@client.test', 'login2@client.test'], new Date(now - 1000), new Date(now + 3600_000));
  const paused = await waitFor('paused', async () => {
    const m = await mailboxOf('default');
    return m.outbound.paused && m.outbound.lastErrorSendId && m.outbound;
  });
  expect(paused).toMatchObject({ paused: true, lastErrorKind: 'retry', lastErrorSendId: first.sendId });
  expect(paused.lastError).toMatch(/refused the login.*535/);
  await waitFor('no longer driven', async () => !(await mailboxOf('default')).outbound.driven);
  expect(JSON.stringify(await svc.api('GET', '/v1/senders/default'))).not.toContain('wrong-password');

  // a person fixes the password: the pause lifts, the health keeps what happened
  await useCorofyDelivery(svc, sink.port);
  expect((await mailboxOf('default')).outbound).toMatchObject({ paused: false, lastErrorSendId: first.sendId });
});

test('inbound: the watcher of a mailbox whose IMAP server cannot be reached is watched, not connected, with its error; verify says why', async () => {
  const port = await closedPort();
  await svc.api('PUT', '/v1/senders/bo', {
    fromEmail: 'bo@acme.test',
    imap: { host: '127.0.0.1', port, tls: 'none', user: 'bo@acme.test', password: 'imap-pw' },
  });
  const inbound = await waitFor('the watcher error', async () => {
    const m = await mailboxOf('bo');
    return m.inbound?.lastError && m;
  });
  expect(inbound.outbound).toBeNull();
  expect(inbound.inbound).toMatchObject({ watched: true, connected: false, lastMessageAt: null, lastVerify: null, folders: [] });
  expect(inbound.inbound.lastError).toMatch(/ECONNREFUSED|connect/i);

  const verify = await svc.api('POST', '/v1/senders/bo/verify');
  expect(verify.status).toBe(502);
  expect((await mailboxOf('bo')).inbound.lastVerify).toMatchObject({ ok: false, code: verify.body.code });
  expect(verify.body.code).toBe('imap_connect_failed');
});
