import pg from 'pg';
import { DatabaseError, functionCallSql, toDatabaseError, type MigratableDatabase, type SqlArgs } from './database';
import { MIGRATION_LOCK_ID } from './migrations';

// Supabase's transaction pooler cannot keep named prepared statements; we never
// name a statement (node-postgres then uses the unnamed one), so every Supabase
// connection string (direct, session or transaction pooler) works.

/** Errors raised before a statement reached the server: safe to retry. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P03', '53300']);

/**
 * The connection itself is gone: the server ended it (SQLSTATE class 57P:
 * terminated, shutting down; class 08: connection exception) or the socket
 * closed (no SQLSTATE at all).
 */
function connectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || code.startsWith('57P') || code.startsWith('08');
}

export class PostgresDatabase implements MigratableDatabase {
  readonly kind = 'postgres' as const;
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  static async open({ url, poolSize, statementTimeoutMs }: {
    url: string;
    poolSize: number;
    statementTimeoutMs: number;
  }): Promise<PostgresDatabase> {
    const pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'corofy',
      // No call may hang for ever: the server cancels a statement after the
      // timeout (a claim stuck behind a held lock), and the client gives up on a
      // connection that stops answering (half-open TCP) a little later. A busy
      // sender's claims wait behind one call, so one hung call must not hold
      // them all.
      statement_timeout: statementTimeoutMs,
      query_timeout: statementTimeoutMs + 5_000,
      keepAlive: true,
    });
    // A dropped idle connection must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    const db = new PostgresDatabase(pool);
    const client = await db.connect();
    client.release();
    return db;
  }

  /** Takes a pooled connection, retrying with backoff while the server is unreachable. */
  private async connect(): Promise<pg.PoolClient> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.connect();
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 4 || !code || !CONNECT_ERRORS.has(code)) throw err;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  async call<T>(fn: string, args: SqlArgs = {}): Promise<T> {
    return (await this.rows<T>(functionCallSql(fn, args)))[0]!;
  }

  callEachAsJsonText(fn: string, args: SqlArgs = {}): Promise<string[]> {
    return this.rows<string>(functionCallSql(fn, args, true));
  }

  private async rows<T>(query: { text: string; values: unknown[] }): Promise<T[]> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      const res = await client.query<{ result: T }>(query);
      return res.rows.map((r) => r.result);
    } catch (err) {
      if (!connectionLost(err)) throw toDatabaseError(err);
      broken = err as Error;
      // the driver's own "Connection terminated" / "Query read timeout" carry no SQLSTATE
      const e = toDatabaseError(err);
      throw e instanceof DatabaseError ? e : new DatabaseError((err as Error).message, '08006', undefined);
    } finally {
      // a connection the server closed must not go back to the pool: the next
      // request would fail on it too
      client.release(broken);
    }
  }

  async migrate(body: (exec: (sql: string, params?: unknown[]) => Promise<unknown[]>) => Promise<void>) {
    const client = await this.connect();
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
      await body(async (sql, params) => (await client.query(sql, params)).rows);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
