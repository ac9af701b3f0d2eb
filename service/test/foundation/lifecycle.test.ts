// The real entry point on the embedded default: key generation, the data-dir
// lock, graceful shutdown with a request in flight, and a kill -9 restart; and
// the sandbox's own entry, which starts the fakes and this same service.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callApi } from '../support/test-service';

const ROOT = path.resolve(__dirname, '../../..');
const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

interface Started {
  child: ChildProcess;
  url: string;
  stdout: () => string;
}

function start(dataDir: string, entry = 'service/src/main.ts', env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, COROFY_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', ...env },
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 60 s:\n${out}`)), 60_000);
    child.stdout!.on('data', () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, stdout: () => out });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`exited with ${code}:\n${out}`), { code, out }));
    });
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

test('embedded default: generated key, exclusive data dir, graceful stop, survives kill -9', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-life-'));
  try {
    const first = await start(dataDir);
    const key = fs.readFileSync(path.join(dataDir, 'api-key'), 'utf8').trim();
    expect(key).toMatch(/^crfy_/);
    expect(first.stdout()).toContain(key); // printed once, on first start
    const auth = { authorization: `Bearer ${key}` };

    // a second process on the same data dir is refused while the first lives
    await expect(start(dataDir)).rejects.toMatchObject({ code: 1, out: expect.stringMatching(/in use by another Corofy process/) });

    // SIGTERM with an import in flight: the import completes, the process exits 0
    const leads = Array.from({ length: 3000 }, (_, i) => ({ email: `p${i}@example.com` }));
    const inFlight = callApi(first.url, 'POST', '/v1/leads/import', { leads }, auth);
    await new Promise((r) => setTimeout(r, 30));
    first.child.kill('SIGTERM');
    const imported = await inFlight;
    expect(imported.status).toBe(200);
    expect(await exitOf(first.child)).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'corofy.lock'))).toBe(false);

    // restart: same key (not printed again), the data is there
    const second = await start(dataDir);
    expect(second.stdout()).not.toContain(key);
    const last = await callApi(second.url, 'GET', `/v1/leads/${imported.body.leadIds.at(-1)}`, undefined, auth);
    expect(last.body).toMatchObject({ email: 'p2999@example.com' });

    // kill -9 leaves a stale lock: the next start takes it over and the data is intact
    second.child.kill('SIGKILL');
    await exitOf(second.child);
    expect(fs.existsSync(path.join(dataDir, 'corofy.lock'))).toBe(true);
    const third = await start(dataDir);
    const again = await callApi(third.url, 'POST', '/v1/leads/import', { leads }, auth);
    expect(again.body).toMatchObject({ imported: 0, duplicates: 3000 });
    third.child.kill('SIGTERM');
    expect(await exitOf(third.child)).toBe(0);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('sandbox mode has its own entry: npm run sandbox serves with the fakes, the service alone refuses COROFY_SANDBOX', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-sandbox-'));
  try {
    // the service does not ship sandbox/, so it cannot start the fakes itself: it says where they are
    await expect(start(dataDir, 'service/src/main.ts', { COROFY_SANDBOX: 'true' })).rejects.toMatchObject({
      code: 2,
      out: expect.stringContaining('npm run sandbox'),
    });

    const sandbox = await start(dataDir, 'sandbox/main.ts');
    const auth = { authorization: `Bearer ${fs.readFileSync(path.join(dataDir, 'api-key'), 'utf8').trim()}` };
    const ready = await callApi(sandbox.url, 'GET', '/readyz');
    expect(ready.body.providers).toEqual({ apollo: 'sandbox', openai: 'sandbox', firecrawl: 'sandbox' });
    // the fake Apollo answers a real search, and the sandbox company speaks for the default sender
    const search = await callApi(sandbox.url, 'POST', '/v1/searches', { filters: { personTitles: ['CEO'] }, leadsWanted: 3 }, auth);
    expect(search.status).toBe(201);
    expect(search.body.leadsAdded).toBe(3);
    const profile = await callApi(sandbox.url, 'GET', '/v1/senders/default/profile', undefined, auth);
    expect(profile.body.profile.companyName).toContain('(sandbox)');

    sandbox.child.kill('SIGTERM');
    expect(await exitOf(sandbox.child)).toBe(0);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 180_000);
