// Test support (not product): leads brought along the pipeline by the product's
// own functions: imported over HTTP, composed through save_draft (what the
// compose step stores once OpenAI has answered), gated through the gate's
// function with the window a test chooses.
import { resolveRecipientTimezone } from '../../src/timezone/resolve-timezone';
import { rawSql, type Query } from './database';
import type { TestService } from './test-service';

/** Imports `n` leads person{i}@{domain} and returns their ids in sequence order. */
export async function importLeads(svc: TestService, n: number, prefix = 'person', domain = 'example.com'): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += 5000) {
    const leads = Array.from({ length: Math.min(5000, n - start) }, (_, i) => ({
      email: `${prefix}${start + i}@${domain}`,
      firstName: `P${start + i}`,
    }));
    ids.push(...(await importLeadRecords(svc, leads)));
  }
  return ids;
}

/** Imports the given lead inputs (all must be new and valid) and returns their ids in order. */
export async function importLeadRecords(svc: TestService, leads: Record<string, unknown>[]): Promise<string[]> {
  const r = await svc.api('POST', '/v1/leads/import', { leads });
  if (r.status !== 200 || r.body.imported !== leads.length) throw new Error(`import failed: ${JSON.stringify(r.body)}`);
  return r.body.leadIds;
}

/**
 * Stores a draft for each lead as the compose step does once the AI has written
 * it (save_draft: a claimed lead becomes composed). Throws when a lead is refused.
 */
export async function composeLeads(svc: TestService | Query, leadIds: string[], step = 1): Promise<void> {
  if (leadIds.length === 0) return;
  const q = typeof svc === 'function' ? svc : rawSql(svc);
  // one statement: save_draft per lead, each under its own row lock
  const refused = await q(
    `select id::text as id, saved->>'code' as code from (
       select id, save_draft(id, jsonb_build_object('subject', 'Subject for ' || id, 'text', 'Text for ' || id,
                                                    'html', '<p>Html for ' || id || '</p>', 'source', 'generic'),
                             false, $2::integer) as saved
         from unnest($1::bigint[]) with ordinality as t(id, n) order by n) s
      where not (saved->>'ok')::boolean`,
    [leadIds, step],
  );
  if (refused.length > 0) throw new Error(`not composed: ${refused.map((r) => `${r.id} ${r.code}`).join(', ')}`);
}

export interface GateAnswer {
  sendNow: any[];
  scheduled: any[];
  alreadyGated: any[];
  skipped: { leadId: string; code: string; detail: string }[];
}

/**
 * Gates claimed (or composed) leads into one window [sendAt, windowEnd), as
 * POST /v1/gate does when that is the recipient's next window with room: the
 * leads are composed if they are not yet, each lead's zone is resolved as the
 * gate resolves it, and the gate's own function runs a moment before sendAt, so
 * every send is `scheduled` at sendAt (due once the clock passes it). Each lead
 * is gated for the sender of its batch. Returns the sends in lead order; throws,
 * naming the gate's code (e.g. no_quota_room), when a lead is not scheduled.
 * Takes the test service, or raw SQL on a database that service processes share.
 */
export async function scheduleSends(svc: TestService | Query, leadIds: string[], sendAt: Date, windowEnd: Date): Promise<any[]> {
  const q = typeof svc === 'function' ? svc : rawSql(svc);
  const leads = await batchLeads(q, leadIds);
  await composeLeads(
    q,
    leads.filter((l) => l.status === 'claimed').map((l) => l.id),
  );
  const answer = await gateIntoWindow(q, leadIds, sendAt, windowEnd);
  const refused = [...answer.skipped, ...answer.alreadyGated.map((s: { leadId: string }) => ({ leadId: s.leadId, code: 'already_gated' }))];
  if (refused.length > 0) throw new Error(`the gate did not schedule every lead: ${refused.map((s) => `${s.leadId} ${s.code}`).join(', ')}`);
  return [...answer.sendNow, ...answer.scheduled].sort((a, b) => Number(a.leadId) - Number(b.leadId));
}

/**
 * The gate's answer for leads (claimed and composed) offered one window
 * [sendAt, windowEnd), at a moment before sendAt; what it refuses (suppressed,
 * not composed, no room) is in `skipped`, as POST /v1/gate answers it.
 */
export async function gateIntoWindow(svc: TestService | Query, leadIds: string[], sendAt: Date, windowEnd: Date): Promise<GateAnswer> {
  const q = typeof svc === 'function' ? svc : rawSql(svc);
  const leads = await batchLeads(q, leadIds);
  const window = [{ start: sendAt.toISOString(), end: windowEnd.toISOString() }];
  const answer: GateAnswer = { sendNow: [], scheduled: [], alreadyGated: [], skipped: [] };
  for (const sender of new Set(leads.map((l) => l.sender as string))) {
    const plans = leads
      .filter((l) => l.sender === sender)
      .map((l) => {
        const { zone, source } = resolveRecipientTimezone(l, l.sender_timezone);
        return { leadId: l.id, timezone: zone, timezoneSource: source, windows: window };
      });
    const [{ result }] = await q('select gate_and_hand_over($1::text, $2::jsonb, $3::timestamptz, 600, null) as result', [
      sender,
      JSON.stringify(plans),
      new Date(sendAt.getTime() - 1).toISOString(),
    ]);
    for (const key of ['sendNow', 'scheduled', 'alreadyGated', 'skipped'] as const) answer[key].push(...result[key]);
  }
  return answer;
}

/** The leads with their batch's sender (and its zone) and their location, in id order; all must be claimed once. */
async function batchLeads(q: Query, leadIds: string[]): Promise<any[]> {
  if (leadIds.length === 0) return [];
  const leads = await q(
    `select l.id::text as id, l.status, b.sender_id as sender, s.timezone as sender_timezone,
            l.timezone, l.country, l.state, l.city
       from leads l join batches b on b.id = l.batch_id join senders s on s.id = b.sender_id
      where l.id = any($1::bigint[]) order by l.id`,
    [leadIds],
  );
  if (leads.length !== new Set(leadIds).size) throw new Error(`not every lead of ${leadIds.join(', ')} is in a batch: claim them first`);
  return leads;
}
