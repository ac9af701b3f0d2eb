// The IMAP watcher against a real Dovecot: messages APPENDed to the sender's
// mailbox become events once; the server restarted, the watcher reconnects by
// itself; UIDVALIDITY changed, the folder is read again without double events.
import { rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { startDovecot, PASSWORD, type Dovecot } from './dovecot';
import { sendStatuses, sentLead } from './inbound-fixture';

const MAILBOX = 'ops@outreach.test';
let svc: TestService;
let dovecot: Dovecot;

beforeAll(async () => {
  dovecot = await startDovecot([MAILBOX]);
  svc = await startTestService({ COROFY_IMAP_SCAN_INTERVAL_MS: '200', COROFY_IMAP_POLL_SECONDS: '2', COROFY_IMAP_LEASE_SECONDS: '10' });
  const put = await svc.api('PUT', '/v1/senders/default', {
    imap: { host: dovecot.host, port: dovecot.port, tls: 'none', user: MAILBOX, password: PASSWORD },
  });
  if (put.status !== 200) throw new Error(JSON.stringify(put.body));
}, 180_000); // the embedded database starts slowly on a loaded machine
afterAll(async () => {
  await stopService(svc);
  await dovecot?.cleanup();
});

const reply = (from: string, irt: string, id: string, text = 'Interested, call me.') =>
  `From: ${from}\r\nTo: ${MAILBOX}\r\nSubject: Re: Hello\r\nMessage-ID: <${id}>\r\nIn-Reply-To: ${irt}\r\nDate: ${new Date().toUTCString()}\r\n\r\n${text}\r\n`;

async function until<T>(label: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out: ${label}`);
}

const health = async () => (await svc.deps.db.call<any>('mailbox_health', { p_sender: 'default' }));
const eventsOf = async (leadId: string) =>
  (await rawSql(svc)('select kind from events where lead_id = $1 order by id', [leadId])).map((r) => r.kind);

test('a reply APPENDed to the mailbox stops the lead (IDLE); the health shows the watcher connected', async () => {
  const lead = await sentLead(svc, 'w1@watch-co.test', '<w1@mail.outreach.test>');
  await until('connected', async () => (await health()).connected);
  await dovecot.append(MAILBOX, reply('w1@watch-co.test', '<w1@mail.outreach.test>', 'w1-reply@watch-co.test'));
  await until('the reply', async () => (await eventsOf(lead)).length === 1);
  expect(await eventsOf(lead)).toEqual(['reply']);
  expect(await sendStatuses(svc, lead)).toEqual({ 1: 'sent', 2: 'cancelled' });
  const h = await health();
  expect(h).toMatchObject({ watched: true, connected: true, folders: [{ folder: 'INBOX', lastUid: 1 }] });
  expect(h.lastMessageAt).not.toBeNull();
});

test('Dovecot restarted: the watcher reconnects by itself and reads what arrived meanwhile, once', async () => {
  const lead = await sentLead(svc, 'w2@watch-co.test', '<w2@mail.outreach.test>');
  await dovecot.stop();
  await until('disconnected', async () => !(await health()).connected);
  expect((await health()).lastError).toEqual(expect.any(String));
  await dovecot.start();
  await dovecot.append(MAILBOX, reply('w2@watch-co.test', '<w2@mail.outreach.test>', 'w2-reply@watch-co.test'));
  await until('the reply after the restart', async () => (await eventsOf(lead)).length === 1, 60_000);
  await until('connected again', async () => (await health()).connected);
  await new Promise((r) => setTimeout(r, 500));
  expect(await eventsOf(lead)).toEqual(['reply']);
});

test('UIDVALIDITY changed: the folder is read again, old messages are not counted twice, new ones are', async () => {
  const lead = await sentLead(svc, 'w3@watch-co.test', '<w3@mail.outreach.test>');
  const before = (await health()).folders[0];
  const [{ n: eventsBefore }] = await rawSql(svc)('select count(*)::int as n from events');
  await dovecot.stop();
  await dovecot.resetMaildir(MAILBOX);
  await dovecot.start();
  // the renumbered folder holds the old replies again (same Message-IDs) and one new message
  await dovecot.append(MAILBOX, reply('w1@watch-co.test', '<w1@mail.outreach.test>', 'w1-reply@watch-co.test'));
  await dovecot.append(MAILBOX, reply('w2@watch-co.test', '<w2@mail.outreach.test>', 'w2-reply@watch-co.test'));
  await dovecot.append(MAILBOX, reply('w3@watch-co.test', '<w3@mail.outreach.test>', 'w3-reply@watch-co.test'));
  await until('the new reply', async () => (await eventsOf(lead)).length === 1, 60_000);
  const after = (await health()).folders[0];
  expect(after.uidValidity).not.toBe(before.uidValidity);
  expect(after.lastUid).toBe(3);
  const [{ n: eventsAfter }] = await rawSql(svc)('select count(*)::int as n from events');
  expect(eventsAfter).toBe(eventsBefore + 1);
});
