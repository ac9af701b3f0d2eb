import { loadConfig } from '../../src/config/env';
import { loadMailboxSettings } from '../../src/mailboxes/mailbox-settings';
import { createSecretBox, SecretKeyError } from '../../src/secrets/secret-box';
import { createTestDatabase } from '../support/test-database';
import { startTestService } from '../support/test-service';

const KEY_A = 'key-a-0123456789abcdef0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef0123456789abcdef';

test('a sealed secret opens only with its key and only in its place', () => {
  const box = createSecretBox(KEY_A);
  const sealed = box.seal('hunter2', 'mailbox:ana:smtp.password');
  expect(sealed).not.toContain('hunter2');
  expect(box.open(sealed, 'mailbox:ana:smtp.password')).toBe('hunter2');
  expect(() => box.open(sealed, 'mailbox:bo:smtp.password')).toThrow(SecretKeyError);
  expect(() => createSecretBox(KEY_B).open(sealed, 'mailbox:ana:smtp.password')).toThrow(/another COROFY_SECRET_KEY/);
  const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
  expect(() => box.open(tampered, 'mailbox:ana:smtp.password')).toThrow(SecretKeyError);
  expect(box.seal('hunter2', 'p')).not.toBe(box.seal('hunter2', 'p'));
});

test('COROFY_SECRET_KEY is required with Postgres or Supabase, not on the embedded default', () => {
  const base = { COROFY_API_KEY: 'an-api-key-0123456789' };
  expect(() => loadConfig({ ...base, DATABASE_URL: 'postgres://x@127.0.0.1/db' })).toThrow(/COROFY_SECRET_KEY is required/);
  expect(() => loadConfig({ ...base, SUPABASE_URL: 'https://x.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'k' })).toThrow(
    /COROFY_SECRET_KEY is required/,
  );
  expect(() => loadConfig({ ...base, DATABASE_URL: 'postgres://x@127.0.0.1/db', COROFY_SECRET_KEY: 'short' })).toThrow(/32 characters/);
  expect(loadConfig({ ...base }).secretKey).toBeUndefined();
});

test('rotation: with the old key as COROFY_SECRET_KEY_PREVIOUS the service reseals every secret at start', async () => {
  const database = await createTestDatabase();
  try {
    const a = await startTestService({ COROFY_SECRET_KEY: KEY_A }, database);
    await a.api('PUT', '/v1/senders/ana', {
      fromEmail: 'ana@acme.test',
      smtp: { host: 'smtp.acme.test', port: 465, tls: 'implicit', user: 'ana', password: 'pw-rotate' },
    });
    await a.close();

    const wrong = await startTestService({ COROFY_SECRET_KEY: KEY_B }, database);
    await expect(loadMailboxSettings(wrong.deps, 'ana')).rejects.toThrow(SecretKeyError);
    await wrong.close();

    const rotating = await startTestService({ COROFY_SECRET_KEY: KEY_B, COROFY_SECRET_KEY_PREVIOUS: KEY_A }, database);
    await rotating.close();

    const b = await startTestService({ COROFY_SECRET_KEY: KEY_B }, database);
    expect((await loadMailboxSettings(b.deps, 'ana')).smtp?.auth).toMatchObject({ password: 'pw-rotate' });
    await b.close();
  } finally {
    await database.drop();
  }
});
