// Test support (not product): a fresh database per test file, and raw SQL on it
// for what a test must arrange or read that no endpoint shows. With
// TEST_DATABASE_URL (CI) each call creates its own Postgres database with a
// unique name and drops it after; otherwise a PGlite data dir in a temp folder.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestService } from './test-service';

export interface TestDatabase {
  /** Environment that points the service at this database. */
  env: Record<string, string>;
  kind: 'pglite' | 'postgres';
  /** For Postgres: the connection string of the fresh database. */
  url?: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-test-'));
    return {
      kind: 'pglite',
      env: { COROFY_DATA_DIR: dir },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `corofy_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.toString(),
    env: { DATABASE_URL: url.toString() },
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/**
 * A small pool of raw connections to a test database. The database is dropped
 * WITH (FORCE) at the end, possibly while a connection of this pool is still
 * closing (pool.end() does not wait for the sockets): the server's "terminating
 * connection" must not surface as an unhandled 'error' event, from the pool or
 * from the closing client.
 */
export function sqlPool(connectionString: string, max = 2): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export type Query = (text: string, params?: unknown[]) => Promise<any[]>;

const pools = new WeakMap<TestService, pg.Pool>();

/** Runs SQL directly on the service's database (PGlite in-process, or a Postgres pool closed by stopService). */
export function rawSql(svc: TestService): Query {
  const db = svc.deps.db as unknown as { kind: string; pg?: { query(t: string, p?: unknown[]): Promise<{ rows: any[] }> } };
  if (db.kind === 'pglite') return async (text, params) => (await db.pg!.query(text, params)).rows;
  let pool = pools.get(svc);
  if (!pool) {
    pool = sqlPool(svc.database.url!);
    pools.set(svc, pool);
  }
  const p = pool;
  return async (text, params) => (await p.query(text, params)).rows;
}

/** Closes the raw connections, then stops the service and drops its database. */
export async function stopService(svc: TestService | undefined): Promise<void> {
  if (!svc) return;
  const pool = pools.get(svc);
  pools.delete(svc);
  await pool?.end();
  await svc.stop();
}

/**
 * `test` and `describe` for what only Postgres can show (several processes or
 * connections on one database, a server to cut off). On PGlite they are the
 * skipped kinds, and the file says once, on stderr, what it skips and why.
 */
export function postgresOnly(why: string): { test: jest.It; describe: jest.Describe } {
  if (process.env.TEST_DATABASE_URL) return { test, describe };
  const file = path.relative(process.cwd(), expect.getState().testPath ?? 'this file');
  process.stderr.write(`${file}: Postgres-only tests skipped on PGlite (${why}); set TEST_DATABASE_URL to run them\n`);
  return { test: test.skip, describe: describe.skip };
}
