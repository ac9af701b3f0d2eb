import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => svc?.stop());

const smtp = { host: 'smtp.example.test', port: 587, tls: 'starttls', user: 'ana@acme.test', password: 'pw' };

test.each([
  ['a port out of range', { smtp: { ...smtp, port: 70000 } }, /smtp\.port/],
  ['an unknown TLS mode', { smtp: { ...smtp, tls: 'ssl' } }, /smtp\.tls/],
  ['both password and oauth2', { smtp: { ...smtp, oauth2: { clientId: 'c', tokenUrl: 'https://t.test/token' } } }, /smtp\.oauth2/],
  ['a token URL that is not http(s)', { smtp: { ...smtp, password: undefined, oauth2: { clientId: 'c', tokenUrl: 'ftp://t.test/x' } } }, /tokenUrl/],
  ['an unknown delivery', { delivery: 'smtp' }, /delivery/],
  ['an unknown field in smtp', { smtp: { ...smtp, secure: true } }, /smtp/],
  ['stopOnAutoReply that is not a boolean', { stopOnAutoReply: 'yes' }, /stopOnAutoReply/],
])('PUT with %s is a 400 that writes nothing', async (_what, body, path) => {
  const before = (await svc.api('GET', '/v1/senders/default')).body;
  const r = await svc.api('PUT', '/v1/senders/default', { ...body, dailyQuota: 7 });
  expect(r.status).toBe(400);
  expect(r.body.code).toBe('validation_failed');
  expect(JSON.stringify(r.body.errors)).toMatch(path);
  expect(JSON.stringify(r.body)).not.toContain('"pw"');
  expect((await svc.api('GET', '/v1/senders/default')).body).toEqual(before);
});

test('delivery "corofy" without SMTP settings or without fromEmail is refused and writes nothing', async () => {
  const before = (await svc.api('GET', '/v1/senders/default')).body;
  const noSmtp = await svc.api('PUT', '/v1/senders/default', { delivery: 'corofy', fromEmail: 'a@acme.test', dailyQuota: 9 });
  expect(noSmtp.status).toBe(422);
  expect(noSmtp.body.code).toBe('mailbox_incomplete');
  expect(noSmtp.body.detail).toMatch(/smtp/);
  const noFrom = await svc.api('PUT', '/v1/senders/default', { delivery: 'corofy', smtp, dailyQuota: 9 });
  expect(noFrom.status).toBe(422);
  expect(noFrom.body.detail).toMatch(/fromEmail/);
  expect((await svc.api('GET', '/v1/senders/default')).body).toEqual(before);
});
