// Test support (not product) for the gate: raw SQL on the test database, and
// composed leads (a draft each) without calling OpenAI: the gate's input.
import pg from 'pg';
import type { TestService } from '../support/test-service';

type Query = (text: string, params?: unknown[]) => Promise<any[]>;
const pools = new WeakMap<TestService, pg.Pool>();

/** SQL on the service's own database (PGlite in-process, or a small Postgres pool). */
export function sql(svc: TestService): Query {
  const db = svc.deps.db as unknown as { kind: string; pg?: { query(t: string, p?: unknown[]): Promise<{ rows: any[] }> } };
  if (db.kind === 'pglite') return async (text, params) => (await db.pg!.query(text, params)).rows;
  let pool = pools.get(svc);
  if (!pool) {
    pool = new pg.Pool({ connectionString: svc.database.url, max: 2 });
    // The test database is dropped WITH (FORCE) at the end, possibly while a
    // connection of this pool is still closing (pool.end() does not wait for
    // the sockets): the server's "terminating connection" must not surface as
    // an unhandled 'error' event, from the pool or from the closing client.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    pools.set(svc, pool);
  }
  const p = pool;
  return async (text, params) => (await p.query(text, params)).rows;
}

export async function closeSql(svc: TestService): Promise<void> {
  await pools.get(svc)?.end();
  pools.delete(svc);
}

export interface LeadSpec {
  email?: string;
  country?: string;
  state?: string;
  city?: string;
  timezone?: string;
}

let counter = 0;

/** Imports leads and composes them (a draft each, status composed); returns their ids in order. */
export async function composedLeads(svc: TestService, specs: LeadSpec[]): Promise<string[]> {
  const leads = specs.map((s) => ({ email: s.email ?? `lead${++counter}-${Date.now()}@example.com`, firstName: 'Ada', ...s }));
  const r = await svc.api('POST', '/v1/leads/import', { leads });
  if (r.status !== 200 || r.body.imported !== specs.length) throw new Error(`import failed: ${JSON.stringify(r.body)}`);
  const ids: string[] = r.body.leadIds;
  await compose(svc, ids);
  return ids;
}

/** Gives leads a draft and marks them composed, as the compose step does. */
export async function compose(svc: TestService, ids: string[]): Promise<void> {
  const q = sql(svc);
  await q(
    `insert into drafts (lead_id, step, subject, text, html, source)
     select id, 1, 'Subject for ' || id, 'Text for ' || id, '<p>Html for ' || id || '</p>', 'generic'
       from leads where id = any($1::bigint[])`,
    [ids],
  );
  await q(`update leads set status = 'composed' where id = any($1::bigint[])`, [ids]);
}

/** Calls the gate's SQL function with a pinned clock, as the route does with the real one. */
export async function gateAt(svc: TestService, leadIds: string[], now: Date, sender = 'default'): Promise<any> {
  const { gateLeads } = await import('../../src/gate/gate');
  return gateLeads(svc.deps.db, { leadIds, sender, leaseSeconds: 600, now });
}
