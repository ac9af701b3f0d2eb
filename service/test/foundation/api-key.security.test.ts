// A wrong API key is answered with where the right one is (the environment, or the
// file of the embedded default, wherever COROFY_DATA_DIR put it), never the key.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callApi, startTestService, TEST_API_KEY } from '../support/test-service';

const wrongKey = { authorization: 'Bearer wrong-key-0123456789' };

test('with COROFY_API_KEY set, the 401 says to use the key of the service’s environment', async () => {
  const svc = await startTestService();
  try {
    const r = await callApi(svc.url, 'GET', '/v1/senders', undefined, wrongKey);
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('unauthorized');
    expect(r.body.detail).toBe(
      'The API key is wrong. Use the COROFY_API_KEY the service runs with (set in its environment).',
    );
    expect(JSON.stringify(r.body)).not.toContain(TEST_API_KEY);
  } finally {
    await svc.stop();
  }
}, 180_000);

test('on the embedded default, the 401 names the key file in the data folder COROFY_DATA_DIR chose', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-key-'));
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    // PGlite in a folder of the test's own, on Postgres runs too: the only mode in
    // which the service generates its key.
    const svc = await startTestService(
      { COROFY_API_KEY: '' },
      { kind: 'pglite', env: { DATABASE_URL: '', COROFY_DATA_DIR: dataDir }, drop: async () => undefined },
    );
    try {
      const key = fs.readFileSync(path.join(dataDir, 'api-key'), 'utf8').trim();
      const r = await callApi(svc.url, 'GET', '/v1/senders', undefined, wrongKey);
      expect(r.status).toBe(401);
      expect(r.body.detail).toBe(
        `The API key is wrong. Use the key the service generated on its first start, kept in ${path.join(dataDir, 'api-key')} on its machine.`,
      );
      expect(r.body.detail).not.toContain('.corofy/data');
      expect(JSON.stringify(r.body)).not.toContain(key);
      expect((await callApi(svc.url, 'GET', '/v1/senders', undefined, { authorization: `Bearer ${key}` })).status).toBe(200);
    } finally {
      await svc.stop();
    }
  } finally {
    stdout.mockRestore();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 180_000); // migrating a new PGlite database takes a while on a busy machine
