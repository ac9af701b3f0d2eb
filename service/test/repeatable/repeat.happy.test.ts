// Every operation the shipped workflows call is safe to send twice: a node whose
// answer was lost (a dropped connection, a database restart) sends it again.
// Each test sends one request twice and checks that the second answer says the
// same and that the second request changed no row of the database. Each test
// has its own service and database, and brings its leads to the stage it needs
// with the same requests the workflow makes.
import { startComposeWorld, type ComposeWorld } from '../compose/compose-fixture';
import { rawSql, stopService } from '../support/sends-fixture';
import type { TestService } from '../support/test-service';
import { snapshot as snapshotOf } from './db-snapshot';

let world: ComposeWorld;
let svc: TestService;
const snapshot = () => snapshotOf(svc);

beforeEach(async () => {
  world = await startComposeWorld();
  svc = world.svc;
  // Always inside the window, no pacing: every gated lead is "send now", whatever the clock says.
  const put = await svc.api('PUT', '/v1/senders/default', {
    timezone: 'UTC',
    window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' },
    skipHolidays: false,
    minGapSeconds: 0,
    jitterSeconds: 0,
  });
  expect(put.status).toBe(200);
}, 180_000);

afterEach(async () => {
  await stopService(svc);
  await world?.openai.close();
  await world?.firecrawl.close();
});

/** Sends the request, then again; returns both answers and asserts the second changed nothing. */
async function twice(method: string, path: string, body: unknown) {
  const first = await svc.api(method, path, body);
  expect(first.status).toBe(200);
  const before = await snapshot();
  const second = await svc.api(method, path, body);
  expect(second.status).toBe(200);
  expect(await snapshot()).toEqual(before);
  return { first: first.body, second: second.body };
}

/** Sends a request once, as the workflow's earlier step did; it must succeed. */
async function once(method: string, path: string, body?: unknown) {
  const r = await svc.api(method, path, body);
  expect(r.status).toBe(200);
  return r.body;
}

const LEADS = [1, 2, 3].map((n) => ({ email: `Buyer${n}@Repeat.example`, firstName: `Buyer${n}`, companyName: 'Repeat Co', timezone: 'UTC' }));
const CLAIM = { sender: 'default', size: 3, idempotencyKey: 'exec-42' };
const GATE = { sender: 'default', idempotencyKey: 'exec-42:gate:0' };

/** The three leads imported. */
async function imported(): Promise<string[]> {
  return (await once('POST', '/v1/leads/import', { leads: LEADS })).leadIds;
}

/** The three leads claimed in one batch (key exec-42). */
async function claimed(): Promise<string[]> {
  const leadIds = await imported();
  await once('POST', '/v1/batches/claim', CLAIM);
  return leadIds;
}

/** The three leads composed. */
async function composed(): Promise<string[]> {
  const leadIds = await claimed();
  expect((await once('POST', '/v1/compose', { leadIds })).failed).toEqual([]);
  return leadIds;
}

/** The three leads gated (send now, key exec-42:gate:0): their sends by lead id. */
async function gated(): Promise<{ leadIds: string[]; sends: Record<string, any> }> {
  const leadIds = await composed();
  const answer = await once('POST', '/v1/gate', { ...GATE, leadIds });
  return { leadIds, sends: Object.fromEntries(answer.sendNow.map((s: any) => [s.leadId, s])) };
}

/** The first send reported sent (message id <repeat-a@mail.example>), the second failed (a retry waits). */
const REPORTED = (sends: Record<string, any>, [a, b]: string[]) => [
  { sendId: sends[a!].sendId, attempt: sends[a!].attempts, status: 'sent', messageId: '<repeat-a@mail.example>' },
  { sendId: sends[b!].sendId, attempt: sends[b!].attempts, status: 'failed', error: '451 4.7.1 try later' },
];
async function reported(): Promise<{ leadIds: string[]; sends: Record<string, any> }> {
  const g = await gated();
  await once('POST', '/v1/sends/report', { results: REPORTED(g.sends, g.leadIds) });
  return g;
}

/** The failed send's retry made due now (the backoff passed) and leased again (key exec-44:drain:0). */
const DRAIN = { sender: 'default', limit: 10, idempotencyKey: 'exec-44:drain:0' };
async function retryDue(sendId: string): Promise<void> {
  await rawSql(svc)(`update sends set send_at = now() - interval '1 minute' where id = $1`, [sendId]);
}

const REPLY = { kind: 'reply', inReplyTo: '<repeat-a@mail.example>', messageId: '<reply-1@buyer.example>', subject: 'Re: hello', text: 'Tell me more' };

test('import: the same leads twice are imported once (by email), the second time as duplicates', async () => {
  const { first, second } = await twice('POST', '/v1/leads/import', { leads: LEADS });
  expect(first).toMatchObject({ imported: 3, duplicates: 0, invalid: [] });
  expect(second).toMatchObject({ imported: 0, duplicates: 3, invalid: [] });
  expect(first.leadIds).toHaveLength(3);
});

test('claim: the same idempotency key twice returns the same batch and uses no more quota', async () => {
  const leadIds = await imported();
  const { first, second } = await twice('POST', '/v1/batches/claim', CLAIM);
  expect(first.batchId).toBeTruthy();
  expect(second.batchId).toBe(first.batchId);
  expect(second.leads.map((l: any) => l.id)).toEqual(leadIds);
  expect(first.leads.map((l: any) => l.id)).toEqual(leadIds);
  expect(second.claimedToday).toBe(first.claimedToday);
  expect(second.remainingToday).toBe(first.remainingToday);
});

test('compose: the same leads twice get their stored drafts back, OpenAI asked once per lead', async () => {
  const leadIds = await claimed();
  const { first, second } = await twice('POST', '/v1/compose', { leadIds });
  expect(first.failed).toEqual([]);
  expect(first.emails).toHaveLength(3);
  const strip = (emails: any[]) => emails.map(({ leadId, subject, text, html, product, source }) => ({ leadId, subject, text, html, product, source }));
  expect(strip(second.emails)).toEqual(strip(first.emails));
  expect(world.openai.state.requests.length).toBe(3);
});

test('gate: the same call (same key) twice answers "send now" for the same sends; another key gets them as already gated', async () => {
  const leadIds = await composed();
  const body = { ...GATE, leadIds };
  const { first, second } = await twice('POST', '/v1/gate', body);
  expect(first.sendNow).toHaveLength(3);
  expect(first.alreadyGated).toEqual([]);
  expect(second.sendNow).toEqual(first.sendNow);
  expect(second.scheduled).toEqual(first.scheduled);
  expect(second.alreadyGated).toEqual([]);

  // a different call (a second execution, a double click) never gets them to send again
  const before = await snapshot();
  const other = await svc.api('POST', '/v1/gate', { ...body, idempotencyKey: 'exec-43:gate:0' });
  expect(other.body.sendNow).toEqual([]);
  expect(other.body.alreadyGated.map((s: any) => s.sendId)).toEqual(first.sendNow.map((s: any) => s.sendId));
  const withoutKey = await svc.api('POST', '/v1/gate', { leadIds, sender: 'default' });
  expect(withoutKey.body.sendNow).toEqual([]);
  expect(await snapshot()).toEqual(before);
});

test('report: the same result twice (send id and attempt) is recorded once, the second time as a duplicate', async () => {
  const { leadIds, sends } = await gated();
  const { first, second } = await twice('POST', '/v1/sends/report', { results: REPORTED(sends, leadIds) });
  expect(first).toMatchObject({ recorded: 2, retrying: 1, deadLettered: 0, duplicates: 0 });
  expect(second).toMatchObject({ recorded: 0, retrying: 0, deadLettered: 0, duplicates: 2 });
  const stats = (await svc.api('GET', '/v1/stats')).body;
  expect(stats).toMatchObject({ sent: 1, sending: 1 });
});

test('claim-due: the same call (same key) twice answers with the sends it leased; another key gets none of them', async () => {
  const { leadIds, sends } = await reported();
  const b = sends[leadIds[1]!];
  await retryDue(b.sendId);
  const { first, second } = await twice('POST', '/v1/sends/claim-due', DRAIN);
  expect(first.sends.map((s: any) => s.sendId)).toEqual([b.sendId]);
  expect(first.sends[0]).toMatchObject({ status: 'sending', attempts: b.attempts + 1 });
  expect(second.sends).toEqual(first.sends);

  const other = await svc.api('POST', '/v1/sends/claim-due', { ...DRAIN, idempotencyKey: 'exec-45:drain:0' });
  expect(other.body.sends).toEqual([]);
});

test('event: the same reply twice (by message id) stops the lead once; the second answer is the first one, marked duplicate', async () => {
  const { leadIds } = await reported();
  const { first, second } = await twice('POST', '/v1/events', REPLY);
  expect(first).toMatchObject({ leadId: leadIds[0], status: 'replied', duplicate: false });
  const { duplicate: d1, ...firstOutcome } = first;
  const { duplicate: d2, ...secondOutcome } = second;
  expect([d1, d2]).toEqual([false, true]);
  expect(secondOutcome).toEqual(firstOutcome);
});

test('stats: reading twice answers the same and changes nothing', async () => {
  const { leadIds, sends } = await reported();
  await retryDue(sends[leadIds[1]!].sendId);
  await once('POST', '/v1/sends/claim-due', DRAIN);
  await once('POST', '/v1/events', REPLY);
  const { first, second } = await twice('GET', '/v1/stats', undefined);
  expect(second).toEqual(first);
  // the third gated send was never reported; the failed one is out again
  expect(first).toMatchObject({ sent: 1, replied: 1, sending: 2 });
});
