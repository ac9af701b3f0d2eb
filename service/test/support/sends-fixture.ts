// Test support (not product): the quota ledger read two ways (as stored, and
// recomputed from the rows), and the claim's bookkeeping gaps. Raw SQL lives in
// ./database, leads and their sends in ./leads; their old names here re-export them.
import { rawSql } from './database';
import type { TestService } from './test-service';

export { rawSql, stopService } from './database';
export { importLeads, scheduleSends } from './leads';

/** The quota ledger as stored, keyed "sender/day". */
export async function ledger(svc: TestService): Promise<Record<string, { quota: number; claimed: number; scheduled: number; sent: number }>> {
  const rows = await rawSql(svc)(
    "select sender_id, to_char(day, 'YYYY-MM-DD') as day, quota, claimed, scheduled, sent from sender_days order by 1, 2",
  );
  return Object.fromEntries(
    rows.map((r) => [`${r.sender_id}/${r.day}`, { quota: r.quota, claimed: r.claimed, scheduled: r.scheduled, sent: r.sent }]),
  );
}

/** The ledger's non-empty days without the quota, comparable with ledgerFromRows(). */
export async function ledgerCounts(svc: TestService): Promise<Record<string, { claimed: number; scheduled: number; sent: number }>> {
  return Object.fromEntries(
    Object.entries(await ledger(svc))
      .filter(([, v]) => v.claimed + v.scheduled + v.sent > 0)
      .map(([k, { claimed, scheduled, sent }]) => [k, { claimed, scheduled, sent }]),
  );
}

/**
 * The ledger recomputed from the rows themselves: claimed leads (claimed or
 * composed) by batch day, pending and sending sends by send day, sent and
 * needs_review by send day. Must equal `ledger()` at every quiet moment.
 */
export async function ledgerFromRows(svc: TestService): Promise<Record<string, { claimed: number; scheduled: number; sent: number }>> {
  const rows = await rawSql(svc)(`
    select sender_id, to_char(day, 'YYYY-MM-DD') as day, sum(c)::int as claimed, sum(sc)::int as scheduled, sum(se)::int as sent from (
      select b.sender_id, b.day, 1 as c, 0 as sc, 0 as se from leads l join batches b on b.id = l.batch_id
       where l.status in ('claimed', 'composed')
      union all
      select sender_id, day, 0, case when status in ('scheduled', 'sending', 'failed') then 1 else 0 end,
             case when status in ('sent', 'needs_review') then 1 else 0 end
        from sends) t
    group by 1, 2 order by 1, 2`);
  return Object.fromEntries(
    rows
      .filter((r) => r.claimed + r.scheduled + r.sent > 0)
      .map((r) => [`${r.sender_id}/${r.day}`, { claimed: r.claimed, scheduled: r.scheduled, sent: r.sent }]),
  );
}

/**
 * What the claim and the sweeper would miss: new leads without a lead_queue row
 * (no claim would ever find them) and claimed or composed leads whose batch is
 * settled or gone (no sweep would ever release them). Both must be empty at
 * every quiet moment.
 */
export async function claimBookkeepingGaps(svc: TestService): Promise<{ unqueued: string[]; unsweepable: string[] }> {
  const q = rawSql(svc);
  const unqueued = await q(`select l.id::text as id from leads l
                             where l.status = 'new' and not exists (select 1 from lead_queue q where q.lead_id = l.id)
                             order by l.id`);
  const unsweepable = await q(`select l.id::text as id from leads l left join batches b on b.id = l.batch_id
                                where l.status in ('claimed', 'composed') and (b.id is null or b.lease_settled_at is not null)
                                order by l.id`);
  return { unqueued: unqueued.map((r) => r.id), unsweepable: unsweepable.map((r) => r.id) };
}
