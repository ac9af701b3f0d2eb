// One way to call a SQL function, whatever carries it (PGlite, node-postgres,
// supabase-js). Every Corofy SQL function returns one json or jsonb value.

export type DatabaseKind = 'pglite' | 'postgres' | 'supabase';

export type SqlArgs = Record<string, unknown>;

export interface CallOptions {
  /**
   * Calling the function twice with the same arguments gives the same outcome
   * and changes nothing the second time (an idempotency key, a stored draft, …).
   * Such a call whose connection was lost before the server answered is sent
   * once more on a fresh connection: it may have committed, and repeating it is
   * harmless. Other calls answer 503 (the caller cannot know what happened).
   */
  repeatable?: boolean;
}

export interface Database {
  readonly kind: DatabaseKind;
  /** Calls public.<fn>(p_x => …) with named arguments and returns its (parsed) JSON result. */
  call<T = unknown>(fn: string, args?: SqlArgs, options?: CallOptions): Promise<T>;
  /**
   * Calls a set-returning public.<fn> (one JSON value per row) and returns its
   * rows in order as JSON text, unparsed: an answer the service passes on whole
   * (a claim of 400 leads) is not parsed only to be serialised again.
   */
  callEachAsJsonText(fn: string, args?: SqlArgs, options?: CallOptions): Promise<string[]>;
  close(): Promise<void>;
}

/** A database the service can run migrations on (PGlite and direct Postgres). */
export interface MigratableDatabase extends Database {
  /** Runs `body` in one transaction that holds the migration advisory lock. */
  migrate(body: (exec: (sql: string, params?: unknown[]) => Promise<unknown[]>) => Promise<void>): Promise<void>;
}

/**
 * An error raised by the database. Corofy's own functions raise domain errors
 * as SQLSTATE 'CR000' with a stable code as message (see app/domain-problems.ts).
 */
export class DatabaseError extends Error {
  override name = 'DatabaseError';
  constructor(
    message: string,
    readonly sqlState: string | undefined,
    readonly detail: string | undefined,
  ) {
    super(message);
  }

  /** The statement ran out of time (statement_timeout) and was rolled back. */
  get timedOut(): boolean {
    return this.sqlState === '57014';
  }

  /**
   * Postgres rolled the call back to break a deadlock (40P01) or a serialization
   * conflict (40001): nothing of it happened, so sending it again is always safe.
   */
  get rolledBackByConflict(): boolean {
    return this.sqlState === '40P01' || this.sqlState === '40001';
  }

  /**
   * The database could not serve the request: the connection failed or the
   * server ended it (class 08; 57P01–57P03: shutdown, terminated, starting up)
   * or it is out of resources (class 53: too many connections, …).
   */
  get connectionFailed(): boolean {
    return /^(08|53|57P0[123])/.test(this.sqlState ?? '');
  }
}

const FUNCTION_NAME = /^[a-z_][a-z0-9_]*$/;

export function assertFunctionName(fn: string): void {
  if (!FUNCTION_NAME.test(fn)) throw new Error(`Not a SQL function name: ${fn}`);
}

/**
 * Builds `select public.fn(p_a => $1, p_b => $2::text::jsonb) as result`, or with
 * `eachRowAsText` `select result::text as result from public.fn(…) as result`
 * for a set-returning function whose rows are wanted as JSON text.
 * Objects and arrays travel as JSON text cast to jsonb (so no driver guesses an
 * array type); scalars travel untyped and Postgres takes the type from the
 * function's signature. Argument names come from our code, never from input.
 */
export function functionCallSql(fn: string, args: SqlArgs, eachRowAsText = false): { text: string; values: unknown[] } {
  assertFunctionName(fn);
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const [name, value] of Object.entries(args)) {
    if (value === undefined) continue;
    assertFunctionName(name);
    values.push(toSqlValue(value));
    const isJson = value !== null && typeof value === 'object' && !(value instanceof Date);
    parts.push(`${name} => $${values.length}${isJson ? '::text::jsonb' : ''}`);
  }
  const call = `public.${fn}(${parts.join(', ')})`;
  return { text: eachRowAsText ? `select result::text as result from ${call} as result` : `select ${call} as result`, values };
}

function toSqlValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A SQLSTATE: five digits or capitals with at least one digit (not a Node code such as EPIPE). */
export function isSqlState(code: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code) && /\d/.test(code);
}

/** Normalises a driver error (pg and PGlite share the field names). */
export function toDatabaseError(err: unknown): unknown {
  if (err instanceof DatabaseError) return err;
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    const e = err as { message?: string; code: string; detail?: string };
    if (isSqlState(e.code)) {
      return new DatabaseError(e.message ?? 'database error', e.code, e.detail);
    }
  }
  return err;
}
