// Shared by the reliability scenarios: a database on a Postgres of the test's
// own, and calls that never hang the test (a hang is a finding, not a timeout).
import pg from 'pg';
import { sqlPool } from '../../service/test/support/database';
import { TEST_API_KEY } from '../../service/test/support/test-service';
import { startOwnPostgres, type OwnPostgres, type OwnPostgresOptions } from '../support/own-postgres';

export interface OwnDatabase {
  server: OwnPostgres;
  /** Connection string of the `corofy` database on it. */
  url: string;
  sql(text: string, params?: unknown[]): Promise<any[]>;
  close(): Promise<void>;
}

export async function startOwnDatabase(options?: OwnPostgresOptions): Promise<OwnDatabase> {
  const server = await startOwnPostgres(options);
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('create database corofy');
  await admin.end();
  const url = server.url.replace(/\/postgres$/, '/corofy');
  const pool = sqlPool(url);
  return {
    server,
    url,
    sql: async (text, params) => (await pool.query(text, params)).rows,
    close: async () => {
      await pool.end();
      await server.cleanup();
    },
  };
}

export interface Answer {
  /** HTTP status, or 0 when no answer came (connection refused or reset, or `hung`). */
  status: number;
  body: any;
  /** No answer within the call's time limit. */
  hung: boolean;
  error?: string;
  ms: number;
}

/** One call with the API key; never throws. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  { timeoutMs = 60_000, headers = {} }: { timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TEST_API_KEY}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, hung: false, ms: performance.now() - started };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const hung = e.name === 'TimeoutError';
    return { status: 0, body: undefined, hung, error: e.cause?.code ?? e.message, ms: performance.now() - started };
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
}
