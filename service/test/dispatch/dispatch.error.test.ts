import { rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { DISPATCH_ENV, dueSends, sendRows, useCorofyDelivery, waitFor } from './dispatch-kit';
import { startSmtpSink, startTokenEndpoint, type SmtpSink, type TokenEndpoint } from './smtp-fixture';

let svc: TestService;
let sink: SmtpSink;
let tokens: TokenEndpoint;
beforeAll(async () => {
  sink = await startSmtpSink({ users: { 'ana@acme.test': 'mailbox-pw' }, tokens: new Set(['at-fresh']) });
  tokens = await startTokenEndpoint();
  svc = await startTestService(DISPATCH_ENV);
});
afterAll(async () => {
  await stopService(svc);
  await sink?.close();
  await tokens?.close();
});
beforeEach(async () => {
  await useCorofyDelivery(svc, sink.port);
});

const settled = (ids: string[]) =>
  waitFor('every send settled', async () => {
    const rows = (await sendRows(svc)).filter((r) => ids.includes(r.id));
    return rows.every((r) => !['sending', 'scheduled'].includes(r.status)) && rows;
  });

test('each answer of the server settles its send as the issue says, and nothing is sent twice', async () => {
  const now = Date.now();
  const sends = await dueSends(
    svc,
    ['ok@client.test', 'temp@client.test', 'busy@client.test', 'gone@client.test', 'policy@client.test', 'drop@client.test'],
    new Date(now - 1000),
    new Date(now + 3600_000),
  );
  const rows = await settled(sends.map((s) => s.sendId));
  const by = (to: string) => rows.find((r) => r.to_email === to)!;

  expect(by('ok@client.test')).toMatchObject({ status: 'sent', lead_status: 'sent' });
  // 4xx before DATA: retried with backoff
  expect(by('temp@client.test')).toMatchObject({ status: 'failed', lead_status: 'scheduled', attempts: 1 });
  expect(by('temp@client.test').last_error).toMatch(/^451 4\.3\.0/);
  expect(by('busy@client.test')).toMatchObject({ status: 'failed', attempts: 1 });
  // 550 5.1.1: dead letter, the address suppressed
  expect(by('gone@client.test')).toMatchObject({ status: 'dead', lead_status: 'bounced' });
  // another 5xx: dead letter, the address not suppressed
  expect(by('policy@client.test')).toMatchObject({ status: 'dead', lead_status: 'dead' });
  expect(by('policy@client.test').last_error).toMatch(/^554 5\.7\.1/);
  // connection lost after the body: needs_review, never resent by itself
  expect(by('drop@client.test')).toMatchObject({ status: 'needs_review', lead_status: 'needs_review' });
  const suppressed = (await svc.api('GET', '/v1/suppressions')).body.suppressions.map((s: { value: string }) => s.value);
  expect(suppressed).toContain('gone@client.test');
  expect(suppressed).not.toContain('policy@client.test');

  await new Promise((r) => setTimeout(r, 600)); // more ticks: nothing goes out again
  const count = (to: string) => sink.received.filter((m) => m.to[0] === to).length;
  expect(count('ok@client.test')).toBe(1);
  expect(count('drop@client.test')).toBe(1);
  expect(count('policy@client.test')).toBe(1);
  expect(count('temp@client.test') + count('busy@client.test') + count('gone@client.test')).toBe(0);

  // the retry goes out when it is due (its backoff passed) and the server takes it
  await rawSql(svc)(`update sends set send_at = now() - interval '1 second' where id = $1`, [by('temp@client.test').id]);
  sink.mode = 'ok';
  try {
    await waitFor('retry sent', async () => (await sendRows(svc)).find((r) => r.id === by('temp@client.test').id && r.status === 'sent'));
  } finally {
    sink.mode = null;
  }
  expect(count('temp@client.test')).toBe(1);
  expect((await sendRows(svc)).find((r) => r.id === by('temp@client.test').id)).toMatchObject({ attempts: 2 });
});

test('a refused login (535) pauses the mailbox with the reason; nothing is sent until a person resumes it', async () => {
  await useCorofyDelivery(svc, sink.port, { password: 'wrong-password' });
  const now = Date.now();
  const [send] = await dueSends(svc, ['login@client.test'], new Date(now - 1000), new Date(now + 3600_000));
  const sender = await waitFor('paused', async () => {
    const s = (await svc.api('GET', '/v1/senders/default')).body;
    return s.paused && s;
  });
  expect(sender.paused).toMatchObject({ code: 'smtp_auth_failed' });
  expect(sender.paused.reason).toMatch(/535/);
  expect(JSON.stringify(sender)).not.toContain('wrong-password');
  const row = (await settled([send.sendId]))[0];
  expect(row).toMatchObject({ status: 'failed', attempts: 1 });
  expect(sink.received.some((m) => m.to[0] === 'login@client.test')).toBe(false);

  const verify = await svc.api('POST', '/v1/senders/default/verify');
  expect(verify.status).toBe(422);
  expect(verify.body.code).toBe('smtp_auth_failed');
  expect(JSON.stringify(verify.body)).not.toContain('wrong-password');

  // the person fixes the password (new SMTP settings lift the pause) and the send goes out when due again
  await useCorofyDelivery(svc, sink.port);
  expect((await svc.api('GET', '/v1/senders/default')).body.paused).toBeNull();
  await rawSql(svc)(`update sends set send_at = now() - interval '1 second' where id = $1`, [send.sendId]);
  await waitFor('sent after the fix', async () => (await sendRows(svc)).find((r) => r.id === send.sendId && r.status === 'sent'));
  expect(sink.received.filter((m) => m.to[0] === 'login@client.test')).toHaveLength(1);
});

test('XOAUTH2: an expired access token is refreshed once (with the mailbox\'s scope) and the message goes out', async () => {
  tokens.grants.set('rt-good', ['at-expired', 'at-fresh']);
  // Microsoft's v2.0 token endpoint wants the scopes with each refresh
  const scope = 'https://outlook.office.com/SMTP.Send offline_access';
  await useCorofyDelivery(svc, sink.port, {
    password: undefined,
    oauth2: { clientId: 'client-1', clientSecret: 'client-secret-1', refreshToken: 'rt-good', tokenUrl: tokens.url, scope },
  });
  const before = tokens.requests.length;
  const now = Date.now();
  const [send] = await dueSends(svc, ['oauth@client.test'], new Date(now - 1000), new Date(now + 3600_000));
  await waitFor('sent with XOAUTH2', async () => (await sendRows(svc)).find((r) => r.id === send.sendId && r.status === 'sent'));
  expect(tokens.requests.slice(before)).toStrictEqual([
    { refreshToken: 'rt-good', clientId: 'client-1', clientSecret: 'client-secret-1', scope },
    { refreshToken: 'rt-good', clientId: 'client-1', clientSecret: 'client-secret-1', scope },
  ]);
  expect(sink.authAttempts.filter((a) => a.method === 'XOAUTH2').length).toBeGreaterThanOrEqual(2);
  expect(sink.received.filter((m) => m.to[0] === 'oauth@client.test')).toHaveLength(1);
});

test('XOAUTH2: a revoked refresh token pauses the mailbox with a clear problem', async () => {
  await useCorofyDelivery(svc, sink.port, {
    password: undefined,
    oauth2: { clientId: 'client-1', clientSecret: 'client-secret-1', refreshToken: 'rt-revoked', tokenUrl: tokens.url },
  });
  const now = Date.now();
  const [send] = await dueSends(svc, ['revoked@client.test'], new Date(now - 1000), new Date(now + 3600_000));
  const sender = await waitFor('paused', async () => {
    const s = (await svc.api('GET', '/v1/senders/default')).body;
    return s.paused && s;
  });
  expect(sender.paused.code).toBe('oauth2_revoked');
  expect(sender.paused.reason).toMatch(/invalid_grant/);
  expect(JSON.stringify(sender)).not.toMatch(/rt-revoked|client-secret-1/);
  expect((await settled([send.sendId]))[0]).toMatchObject({ status: 'failed' });
  const verify = await svc.api('POST', '/v1/senders/default/verify');
  expect(verify.status).toBe(422);
  expect(verify.body.code).toBe('oauth2_revoked');
  expect(sink.received.some((m) => m.to[0] === 'revoked@client.test')).toBe(false);
});

test('verify names what is wrong: DNS, an unreachable port', async () => {
  await useCorofyDelivery(svc, sink.port, { host: 'no-such-host.invalid' });
  const dns = await svc.api('POST', '/v1/senders/default/verify');
  expect(dns.status).toBe(422);
  expect(dns.body.code).toBe('smtp_dns_failed');
  await useCorofyDelivery(svc, 1);
  const refused = await svc.api('POST', '/v1/senders/default/verify');
  expect(refused.status).toBe(502);
  expect(refused.body.code).toBe('smtp_connect_failed');
  await useCorofyDelivery(svc, sink.port, { delivery: undefined });
});
