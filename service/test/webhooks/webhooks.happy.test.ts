import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../src/webhooks/signing';
import { postRaw, sentLead } from '../inbound/inbound-fixture';
import { rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on a real port; `answer` decides each response's status. */
async function startReceiver(answer: (r: Received, n: number) => number = () => 204) {
  const received: Received[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    received.push(r);
    res.writeHead(answer(r, received.length)).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

async function until<T>(what: () => Promise<T | undefined> | T | undefined, label: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await what();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${label}`);
}

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({
    COROFY_WEBHOOK_INTERVAL_MS: '50',
    COROFY_WEBHOOK_BACKOFF_SECONDS: '0',
    COROFY_WEBHOOK_MAX_ATTEMPTS: '3',
  });
}, 180_000); // the embedded database starts slowly on a loaded machine
afterAll(() => stopService(svc));

const reply = (from: string, irt: string, text: string) =>
  `From: ${from}\r\nTo: ops@outreach.test\r\nSubject: Re: Hello\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@in.test>\r\nIn-Reply-To: ${irt}\r\n\r\n${text}`;

test('a reply is delivered once to the subscribed URL, signed the Standard Webhooks way; other event types are not', async () => {
  const rx = await startReceiver();
  try {
    const created = await svc.api('POST', '/v1/webhooks', { url: rx.url, events: ['reply'] });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    const other = await svc.api('POST', '/v1/webhooks', { url: rx.url.replace('/hook', '/bounces'), events: ['bounce'] });

    const lead = await sentLead(svc, 'wh1@hook-co.test', '<wh1@mail.outreach.test>');
    await postRaw(svc, reply('wh1@hook-co.test', '<wh1@mail.outreach.test>', 'Tell me more.'));
    const got = await until(() => rx.received[0], 'the delivery');
    const payload = JSON.parse(got.body);
    expect(payload).toMatchObject({ type: 'reply', data: { kind: 'reply', leadId: lead, email: 'wh1@hook-co.test', text: 'Tell me more.', lead: { id: lead, status: 'replied' } } });
    expect(got.headers['webhook-id']).toMatch(/^msg_/);
    const headers = { id: got.headers['webhook-id'] as string, timestamp: got.headers['webhook-timestamp'] as string, signature: got.headers['webhook-signature'] as string };
    expect(verifyWebhook(created.body.secret, headers, got.body)).toBe(true);
    expect(verifyWebhook(created.body.secret, headers, got.body.replace('Tell', 'Tall'))).toBe(false);
    expect(verifyWebhook(other.body.secret, headers, got.body)).toBe(false);

    await until(async () => (await svc.api('GET', `/v1/webhooks/${created.body.id}`)).body.deliveries.delivered === 1 || undefined, 'delivered count');
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received).toHaveLength(1);
    expect((await svc.api('GET', `/v1/webhooks/${other.body.id}`)).body.deliveries).toEqual({ pending: 0, delivered: 0, dead: 0 });
    const listed = await svc.api('GET', '/v1/webhooks');
    expect(listed.body.webhooks.every((w: any) => w.secret === undefined)).toBe(true);
    await svc.api('DELETE', `/v1/webhooks/${created.body.id}`);
    await svc.api('DELETE', `/v1/webhooks/${other.body.id}`);
  } finally {
    await rx.close();
  }
});

test('a failing receiver is retried with the same webhook-id, then the delivery is a dead letter visible in the API', async () => {
  const rx = await startReceiver(() => 503);
  try {
    const hook = (await svc.api('POST', '/v1/webhooks', { url: rx.url, events: ['reply', 'bounce'] })).body;
    await sentLead(svc, 'wh2@hook-co.test', '<wh2@mail.outreach.test>');
    await postRaw(svc, reply('wh2@hook-co.test', '<wh2@mail.outreach.test>', 'Yes.'));
    const dead = await until(async () => {
      const d = (await svc.api('GET', `/v1/webhooks/${hook.id}/deliveries?status=dead`)).body.deliveries;
      return d.length === 1 ? d[0] : undefined;
    }, 'a dead letter');
    expect(dead).toMatchObject({ eventType: 'reply', status: 'dead', attempts: 3, lastStatus: 503, lastError: 'the receiver answered 503' });
    expect(rx.received).toHaveLength(3);
    expect(new Set(rx.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([dead.messageId]));
    await svc.api('DELETE', `/v1/webhooks/${hook.id}`);
  } finally {
    await rx.close();
  }
});

test('deliveries about one lead arrive in order, even when the first needs retries', async () => {
  let failuresLeft = 2;
  const rx = await startReceiver((r) => (JSON.parse(r.body).type === 'auto_reply' && failuresLeft-- > 0 ? 500 : 200));
  try {
    const hook = (await svc.api('POST', '/v1/webhooks', { url: rx.url, events: ['reply', 'auto_reply'] })).body;
    await sentLead(svc, 'wh3@hook-co.test', '<wh3@mail.outreach.test>');
    await postRaw(svc, `From: wh3@hook-co.test\r\nSubject: Out of Office\r\nMessage-ID: <ooo-wh3@in.test>\r\nAuto-Submitted: auto-replied\r\nIn-Reply-To: <wh3@mail.outreach.test>\r\n\r\naway`);
    await postRaw(svc, reply('wh3@hook-co.test', '<wh3@mail.outreach.test>', 'Back now, interested.'));
    await until(() => rx.received.filter((r) => JSON.parse(r.body).type === 'reply')[0], 'the reply');
    expect(rx.received.map((r) => JSON.parse(r.body).type)).toEqual(['auto_reply', 'auto_reply', 'auto_reply', 'reply']);
    await svc.api('DELETE', `/v1/webhooks/${hook.id}`);
  } finally {
    await rx.close();
  }
});

test('a send given up on is announced as send_failed', async () => {
  const rx = await startReceiver();
  try {
    const hook = (await svc.api('POST', '/v1/webhooks', { url: rx.url, events: ['send_failed'] })).body;
    const lead = await sentLead(svc, 'wh4@hook-co.test', '<wh4@mail.outreach.test>');
    await rawSql(svc)("update sends set status = 'dead', last_error = 'smtp 550' where lead_id = $1 and step = 2", [lead]);
    const got = await until(() => rx.received[0], 'send_failed');
    expect(JSON.parse(got.body)).toMatchObject({ type: 'send_failed', data: { leadId: lead, step: 2, error: 'smtp 550' } });
    await svc.api('DELETE', `/v1/webhooks/${hook.id}`);
  } finally {
    await rx.close();
  }
});

test('bad input: problems with stable codes, nothing written', async () => {
  const before = (await svc.api('GET', '/v1/webhooks')).body.webhooks.length;
  for (const body of [{ url: 'ftp://x.test/', events: ['reply'] }, { url: 'http://x.test/', events: [] }, { url: 'http://x.test/', events: ['everything'] }, { url: 'http://x.test/', events: ['reply'], secret: 'mine' }]) {
    const r = await svc.api('POST', '/v1/webhooks', body);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('validation_failed');
  }
  expect((await svc.api('GET', '/v1/webhooks/00000000-0000-4000-8000-000000000000')).body.code).toBe('webhook_not_found');
  expect((await svc.api('DELETE', '/v1/webhooks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  expect((await svc.api('GET', '/v1/webhooks/not-a-uuid')).status).toBe(400);
  expect((await svc.api('GET', '/v1/webhooks')).body.webhooks.length).toBe(before);
});
