// Test support (not product): the real service as child processes
// (`node --import tsx service/src/main.ts`, or sandbox/main.ts with
// COROFY_SANDBOX=true: the service beside the local fakes) on one Postgres database.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_API_KEY, TEST_SECRET_KEY } from '../support/test-service';
import { freePort } from '../support/network';

const ROOT = path.resolve(__dirname, '../../..');

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

const children = new Set<ChildProcess>();

/** Kills (SIGKILL) every child still running; call in afterAll. */
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

/** Starts one service process and waits until /readyz answers 200. */
export async function startProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const entry = env.COROFY_SANDBOX === 'true' ? 'sandbox/main.ts' : 'service/src/main.ts';
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      COROFY_API_KEY: TEST_API_KEY,
      COROFY_SECRET_KEY: TEST_SECRET_KEY,
      LOG_LEVEL: 'silent',
      COROFY_SWEEP_INTERVAL_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.status === 200) return { child, url, output: () => out };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`service not ready within 60 s:\n${out}`);
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}
