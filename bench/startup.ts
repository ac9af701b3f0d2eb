// Start-up and import benchmark: time from spawn to /readyz 200, idle RSS, and
// import throughput of 100k leads, on Postgres (BENCH_DATABASE_URL or the local
// server) and on the embedded PGlite. Prints one JSON object.
//   node --import tsx bench/startup.ts
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const ROOT = path.resolve(__dirname, '..');
const KEY = 'bench-api-key-0123456789abcdef';
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const LEADS = Number(process.env.BENCH_IMPORT_LEADS ?? 100_000);
const CHUNK = 5000;

async function startService(env: Record<string, string>, port: number) {
  const t0 = performance.now();
  // the service as `npm start` runs it: the esbuild bundle on plain node
  const child = spawn(process.execPath, ['service/dist/main.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), COROFY_API_KEY: KEY, COROFY_SECRET_KEY: 'bench-secret-key-0123456789abcdef0123', LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { child, url, readyMs: performance.now() - t0 };
}

function rssMb(child: ChildProcess): number {
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}

async function importThroughput(url: string): Promise<number> {
  const t0 = performance.now();
  for (let offset = 0; offset < LEADS; offset += CHUNK) {
    const leads = Array.from({ length: Math.min(CHUNK, LEADS - offset) }, (_, i) => ({
      email: `lead${offset + i}@company${(offset + i) % 9973}.example`,
      firstName: 'Bench',
      companyName: `Company ${(offset + i) % 9973}`,
      country: 'US',
      state: 'CA',
    }));
    const res = await fetch(`${url}/v1/leads/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ leads }),
    });
    const body = (await res.json()) as { imported: number };
    if (res.status !== 200 || body.imported !== leads.length) throw new Error(`import failed: ${JSON.stringify(body)}`);
  }
  return Math.round(LEADS / ((performance.now() - t0) / 1000));
}

async function measure(name: string, env: Record<string, string>, port: number) {
  const { child, url, readyMs } = await startService(env, port);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idleRssMb = rssMb(child);
    const importLeadsPerSecond = await importThroughput(url);
    return { database: name, readyMs: Math.round(readyMs), idleRssMb, importLeads: LEADS, importLeadsPerSecond };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main() {
  execFileSync('npm', ['run', 'build', '-w', 'service', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const dbName = `corofy_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-bench-'));
  try {
    // first start on Postgres applies the migrations; the measured one is a restart
    const warm = await startService({ DATABASE_URL: dbUrl.toString() }, 18_901);
    warm.child.kill('SIGTERM');
    await new Promise((r) => warm.child.once('exit', r));
    const postgres = await measure('postgres', { DATABASE_URL: dbUrl.toString() }, 18_902);
    const pglite = await measure('pglite', { COROFY_DATA_DIR: dataDir }, 18_903);
    const result = {
      benchmark: 'startup',
      node: process.version,
      cpus: os.cpus().length,
      postgres: { ...postgres, goals: { readyMs: 2000, idleRssMb: 120, importLeadsPerSecond: 20_000 } },
      pglite: { ...pglite, goals: { idleRssMb: 650 } },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
