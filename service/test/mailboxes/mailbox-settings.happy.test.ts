import { loadMailboxSettings } from '../../src/mailboxes/mailbox-settings';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => svc?.stop());

const smtpWithPassword = { host: 'smtp.example.test', port: 587, tls: 'starttls', user: 'ana@acme.test', password: 'pw-one-S3cret' };

test('a sender starts on n8n delivery with no mailbox', async () => {
  const r = await svc.api('GET', '/v1/senders/default');
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ delivery: 'n8n', smtp: null, imap: null, paused: null, unsubscribeEmail: null });
});

test('PUT stores SMTP and IMAP settings; answers say only whether each secret is set', async () => {
  const r = await svc.api('PUT', '/v1/senders/ana', {
    fromName: 'Ana',
    fromEmail: 'ana@acme.test',
    delivery: 'corofy',
    unsubscribeEmail: 'unsubscribe@acme.test',
    smtp: smtpWithPassword,
    imap: { host: 'imap.example.test', port: 993, tls: 'implicit', user: 'ana@acme.test', password: 'imap-pw-S3cret' },
  });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({
    id: 'ana',
    delivery: 'corofy',
    unsubscribeEmail: 'unsubscribe@acme.test',
    smtp: { host: 'smtp.example.test', port: 587, tls: 'starttls', user: 'ana@acme.test', auth: 'password', passwordSet: true, oauth2: null },
    imap: { host: 'imap.example.test', port: 993, tls: 'implicit', auth: 'password', passwordSet: true },
  });
  const listed = (await svc.api('GET', '/v1/senders')).body.senders.find((s: { id: string }) => s.id === 'ana');
  expect(listed).toEqual(r.body);
  expect(JSON.stringify(r.body) + JSON.stringify(listed)).not.toMatch(/S3cret/);

  const settings = await loadMailboxSettings(svc.deps, 'ana');
  expect(settings).toMatchObject({
    delivery: 'corofy',
    fromEmail: 'ana@acme.test',
    smtp: { host: 'smtp.example.test', port: 587, tls: 'starttls', auth: { kind: 'password', user: 'ana@acme.test', password: 'pw-one-S3cret' } },
    imap: { auth: { kind: 'password', password: 'imap-pw-S3cret' } },
  });
});

test('a PUT without the password keeps it; switching to OAuth2 drops it', async () => {
  await svc.api('PUT', '/v1/senders/bo', { fromEmail: 'bo@acme.test', smtp: smtpWithPassword });
  const kept = await svc.api('PUT', '/v1/senders/bo', { smtp: { ...smtpWithPassword, password: undefined, host: 'smtp2.example.test' } });
  expect(kept.body.smtp).toMatchObject({ host: 'smtp2.example.test', passwordSet: true });
  expect((await loadMailboxSettings(svc.deps, 'bo')).smtp?.auth).toMatchObject({ password: 'pw-one-S3cret' });

  const oauth = await svc.api('PUT', '/v1/senders/bo', {
    smtp: {
      host: 'smtp.gmail.com', port: 465, tls: 'implicit', user: 'bo@acme.test',
      oauth2: { clientId: 'cid', clientSecret: 'csecret-S3cret', refreshToken: 'rt-S3cret', tokenUrl: 'https://oauth2.googleapis.com/token' },
    },
  });
  expect(oauth.body.smtp).toEqual({
    host: 'smtp.gmail.com', port: 465, tls: 'implicit', user: 'bo@acme.test', auth: 'oauth2', passwordSet: false,
    oauth2: { clientId: 'cid', tokenUrl: 'https://oauth2.googleapis.com/token', scope: null, clientSecretSet: true, refreshTokenSet: true },
  });
  expect((await loadMailboxSettings(svc.deps, 'bo')).smtp?.auth).toEqual({
    kind: 'oauth2', user: 'bo@acme.test', clientId: 'cid', clientSecret: 'csecret-S3cret', refreshToken: 'rt-S3cret',
    tokenUrl: 'https://oauth2.googleapis.com/token', scope: null,
  });

  const removed = await svc.api('PUT', '/v1/senders/bo', { smtp: null });
  expect(removed.body.smtp).toBeNull();
  expect((await loadMailboxSettings(svc.deps, 'bo')).smtp).toBeNull();
});

test('secrets are stored sealed: the database never holds them in clear', async () => {
  await svc.api('PUT', '/v1/senders/cy', { fromEmail: 'cy@acme.test', smtp: { ...smtpWithPassword, password: 'cy-password-S3cret' } });
  const rows = await svc.deps.db.call<{ senderId: string; secrets: Record<string, string> }[]>('list_mailbox_secrets');
  const row = rows.find((r) => r.senderId === 'cy')!;
  expect(Object.keys(row.secrets)).toEqual(['smtp.password']);
  expect(row.secrets['smtp.password']).toMatch(/^v1\./);
  expect(JSON.stringify(rows)).not.toMatch(/S3cret/);
});
