// Test support (not product) for the gate: raw SQL on the test database, and
// composed leads (a draft each) without calling OpenAI: the gate's input.
import { rawSql } from '../support/sends-fixture';
import type { TestService } from '../support/test-service';

/** SQL on the service's own database: the raw SQL of sends-fixture (ended by its stopService). */
export const sql = rawSql;

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
