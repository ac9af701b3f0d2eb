import { simpleParser } from 'mailparser';
import { compose } from '../gate/gate-fixture';
import { stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { sendRows } from './dispatch-kit';

let svc: TestService;
beforeAll(async () => {
  // no dispatcher: only n8n's path is under test here
  svc = await startTestService({ COROFY_DISPATCH_INTERVAL_MS: '0', COROFY_PUBLIC_URL: 'https://corofy.example.test' });
});
afterAll(() => stopService(svc));

const always = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' };

async function composedLead(email: string): Promise<string> {
  const imp = await svc.api('POST', '/v1/leads/import', { leads: [{ email, timezone: 'UTC' }] });
  await compose(svc, imp.body.leadIds);
  return imp.body.leadIds[0];
}

test('items of n8n delivery carry the whole message as raw (base64url) with our Message-ID and the one-click pair', async () => {
  await svc.api('PUT', '/v1/senders/default', {
    fromName: 'Ana Example', fromEmail: 'ana@acme.test', unsubscribeEmail: 'unsubscribe@acme.test',
    timezone: 'UTC', skipHolidays: false, window: always,
  });
  const leadId = await composedLead('n8n-raw@client.test');
  const gate = await svc.api('POST', '/v1/gate', { leadIds: [leadId] });
  expect(gate.status).toBe(200);
  expect(gate.body.delivery).toBe('n8n');
  const [item] = gate.body.sendNow;
  expect(item.status).toBe('sending');
  expect(item.raw).toMatch(/^[A-Za-z0-9_-]+$/);
  const raw = Buffer.from(item.raw, 'base64url').toString('utf8');
  const parsed = await simpleParser(raw);
  const stored = (await sendRows(svc)).find((r) => r.id === item.sendId)!;
  expect(stored.message_id).toMatch(/@acme\.test$/);
  expect(item.messageId).toBe(stored.message_id);
  expect(parsed.messageId).toBe(`<${stored.message_id}>`);
  expect(parsed.subject).toBe(item.subject);
  expect(parsed.from?.text).toBe('"Ana Example" <ana@acme.test>');
  expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
  expect(raw.replace(/\r\n[ \t]+/g, ' ')).toContain(`List-Unsubscribe: <${item.unsubscribeUrl}>, <mailto:unsubscribe@acme.test?subject=unsubscribe>`);

  // n8n reports the outcome with that Message-ID, as today
  const report = await svc.api('POST', '/v1/sends/report', { results: [{ sendId: item.sendId, status: 'sent', messageId: item.messageId }] });
  expect(report.body.recorded).toBe(1);
});

test('the queue drain never hands out the sends of a corofy sender', async () => {
  await svc.api('PUT', '/v1/senders/mbx', {
    fromEmail: 'bo@acme.test', timezone: 'UTC', skipHolidays: false, window: always, delivery: 'corofy',
    smtp: { host: '127.0.0.1', port: 2525, tls: 'none', user: 'bo@acme.test', password: 'pw' },
  });
  const leadId = await composedLead('corofy-only@client.test');
  const gate = await svc.api('POST', '/v1/gate', { leadIds: [leadId], sender: 'mbx' });
  expect(gate.body.delivery).toBe('corofy');
  expect(gate.body.sendNow[0]).toMatchObject({ status: 'scheduled' });
  expect(gate.body.sendNow[0].raw).toBeUndefined();

  const all = await svc.api('POST', '/v1/sends/claim-due', {});
  expect(all.status).toBe(200);
  expect(all.body.sends.map((s: { to: string }) => s.to)).not.toContain('corofy-only@client.test');
  const named = await svc.api('POST', '/v1/sends/claim-due', { sender: 'mbx' });
  expect(named.status).toBe(409);
  expect(named.body.code).toBe('delivery_corofy');
  expect((await sendRows(svc)).find((r) => r.to_email === 'corofy-only@client.test')).toMatchObject({ status: 'scheduled', attempts: 0 });
});

test('a gate call of a corofy sender sent twice (same key) hands the send to the dispatcher once; a claim-due with a key never drains it', async () => {
  const leadId = await composedLead('corofy-twice@client.test');
  const body = { leadIds: [leadId], sender: 'mbx', idempotencyKey: 'exec-7:gate:0' };
  const first = await svc.api('POST', '/v1/gate', body);
  expect(first.status).toBe(200);
  expect(first.body.delivery).toBe('corofy');
  expect(first.body.sendNow).toHaveLength(1);
  const sendId = first.body.sendNow[0].sendId;
  const rowsAfterFirst = await sendRows(svc);
  expect(rowsAfterFirst.find((r) => r.id === sendId)).toMatchObject({ status: 'scheduled', attempts: 0 });

  // the answer was lost: the same call again changes nothing; the dispatcher holds the
  // send, so the repeat names it as scheduled (nobody downstream sends it either way)
  const second = await svc.api('POST', '/v1/gate', body);
  expect(second.status).toBe(200);
  expect(second.body).toMatchObject({ delivery: 'corofy', sendNow: [], alreadyGated: [] });
  expect(second.body.scheduled.map((s: { sendId: string }) => s.sendId)).toEqual([sendId]);
  expect(await sendRows(svc)).toEqual(rowsAfterFirst);

  // another call (another key) gets it as gated before
  const other = await svc.api('POST', '/v1/gate', { ...body, idempotencyKey: 'exec-8:gate:0' });
  expect(other.body.alreadyGated.map((s: { sendId: string }) => s.sendId)).toEqual([sendId]);

  const drain = await svc.api('POST', '/v1/sends/claim-due', { sender: 'mbx', idempotencyKey: 'exec-7:drain:0' });
  expect(drain.status).toBe(409);
  expect(drain.body.code).toBe('delivery_corofy');
  expect(await sendRows(svc)).toEqual(rowsAfterFirst);
});
