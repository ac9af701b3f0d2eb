import pg from 'pg';
import {
  DatabaseError,
  functionCallSql,
  isSqlState,
  toDatabaseError,
  type CallOptions,
  type MigratableDatabase,
  type SqlArgs,
} from './database';
import { MIGRATION_LOCK_ID } from './migrations';

// Supabase's transaction pooler cannot keep named prepared statements; we never
// name a statement (node-postgres then uses the unnamed one), so every Supabase
// connection string (direct, session or transaction pooler) works.

/** How long one migration statement may take (the backfill of a big table). */
const MIGRATION_TIMEOUT_MS = 6 * 3600_000;

/** Errors raised before a statement reached the server: safe to retry. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P03', '53300']);

/**
 * The connection itself is gone: the server ended it (SQLSTATE class 57P:
 * terminated, shutting down; class 08: connection exception) or the socket
 * closed (no SQLSTATE at all).
 */
function connectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code !== 'string' || !isSqlState(code) || code.startsWith('57P') || code.startsWith('08');
}

/**
 * A driver or socket error as a DatabaseError the app answers with a 503: the
 * client's read timeout as 57014 (query_canceled), anything else without a
 * SQLSTATE (ECONNREFUSED, "Connection terminated") as 08006 (connection failure).
 */
function asConnectionFailure(err: unknown): unknown {
  const e = toDatabaseError(err);
  if (e instanceof DatabaseError) return e;
  const message = (err as Error)?.message ?? String(err);
  return new DatabaseError(message, /read timeout/i.test(message) ? '57014' : '08006', undefined);
}

/** The connection broke while a statement was out: it may or may not have committed. */
class LostConnection extends Error {
  constructor(readonly failure: unknown) {
    super('lost connection');
  }
}

/** How many times a call rolled back by a deadlock or serialization conflict is sent in all. */
const CONFLICT_TRIES = 4;

export class PostgresDatabase implements MigratableDatabase {
  readonly kind = 'postgres' as const;
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  static async open({ url, poolSize, queryTimeoutMs }: {
    url: string;
    poolSize: number;
    queryTimeoutMs: number;
  }): Promise<PostgresDatabase> {
    const pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'corofy',
      // No call may hang for ever: a busy sender's claims wait behind one call,
      // so one hung call (a connection gone silent, a lock never released) must
      // not hold them all. The timeout is the client's: a server-side
      // statement_timeout travels as a startup parameter, which transaction
      // poolers (PgBouncer, Supavisor) may refuse. The connection is dropped
      // after a timeout (see rows()), which ends the server's side too.
      query_timeout: queryTimeoutMs,
      keepAlive: true,
    });
    // A dropped idle connection must not crash the process; the pool replaces it.
    // Nor may one the server ends while it is closing or between queries (an
    // error during a query reaches that query's caller either way).
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
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

  async call<T>(fn: string, args: SqlArgs = {}, options: CallOptions = {}): Promise<T> {
    return (await this.rowsOnce<T>(functionCallSql(fn, args), options))[0]!;
  }

  callEachAsJsonText(fn: string, args: SqlArgs = {}, options: CallOptions = {}): Promise<string[]> {
    return this.rowsOnce<string>(functionCallSql(fn, args, true), options);
  }

  /**
   * A repeatable call whose connection was lost before the answer (a restarted
   * or failed-over server, a dropped socket) is sent once more on a fresh
   * connection; a second loss is the caller's 503. A call that ran out of time
   * is not sent again: it would only make its caller wait twice as long.
   */
  private async rowsOnce<T>(query: { text: string; values: unknown[] }, { repeatable = false }: CallOptions): Promise<T[]> {
    for (let attempt = 1, conflicts = 0; ; attempt++) {
      try {
        return await this.rows<T>(query);
      } catch (err) {
        // Each call is one transaction: one Postgres rolled back to break a deadlock
        // left nothing behind, so it goes again (after a short random pause, so two
        // callers that collided do not collide again), whatever the call is.
        if (err instanceof DatabaseError && err.rolledBackByConflict && ++conflicts < CONFLICT_TRIES) {
          attempt--;
          await new Promise((r) => setTimeout(r, 20 * conflicts + Math.random() * 50));
          continue;
        }
        if (!(err instanceof LostConnection)) throw err;
        const again = repeatable && attempt === 1 && !(err.failure instanceof DatabaseError && err.failure.timedOut);
        if (!again) throw err.failure;
      }
    }
  }

  private async rows<T>(query: { text: string; values: unknown[] }): Promise<T[]> {
    let client: pg.PoolClient;
    try {
      client = await this.connect();
    } catch (err) {
      // unreachable, refusing, out of connections: the database is unavailable
      throw asConnectionFailure(err);
    }
    let broken: Error | undefined;
    try {
      const res = await client.query<{ result: T }>(query);
      return res.rows.map((r) => r.result);
    } catch (err) {
      if (!connectionLost(err)) throw toDatabaseError(err);
      broken = err as Error;
      throw new LostConnection(asConnectionFailure(err));
    } finally {
      // a connection the server closed must not go back to the pool: the next
      // request would fail on it too
      client.release(broken);
    }
  }

  async migrate(body: (exec: (sql: string, params?: unknown[]) => Promise<unknown[]>) => Promise<void>) {
    const client = await this.connect();
    try {
      // a migration (or waiting for another replica's) may take longer than a request
      const long = (text: string, values?: unknown[]) => {
        // node-postgres reads query_timeout per query too; its types only know it per client
        const query: pg.QueryConfig & { query_timeout: number } = { text, values, query_timeout: MIGRATION_TIMEOUT_MS };
        return client.query(query);
      };
      await long('begin');
      await long('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
      await body(async (sql, params) => (await long(sql, params)).rows);
      await long('commit');
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
