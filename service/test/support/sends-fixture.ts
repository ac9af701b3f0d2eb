// Test support (not product): raw SQL on the test database and a stand-in for
// the Timezone Gate that turns claimed leads into scheduled sends with the
// ledger arithmetic of the team brief (D.claimed -= 1, E.scheduled += 1).
import pg from 'pg';
import type { TestService } from './test-service';

type Query = (text: string, params?: unknown[]) => Promise<any[]>;

const clients = new WeakMap<TestService, pg.Pool>();

/** Runs SQL directly on the service's database (PGlite in-process, or a Postgres pool). */
export function rawSql(svc: TestService): Query {
  const db = svc.deps.db as unknown as { kind: string; pg?: { query(t: string, p?: unknown[]): Promise<{ rows: any[] }> } };
  if (db.kind === 'pglite') return async (text, params) => (await db.pg!.query(text, params)).rows;
  let pool = clients.get(svc);
  if (!pool) {
    pool = new pg.Pool({ connectionString: svc.database.url, max: 2 });
    // The test database is dropped WITH (FORCE) at the end, possibly while a
    // connection of this pool is still closing (pool.end() does not wait for
    // the sockets): the server's "terminating connection" must not surface as
    // an unhandled 'error' event, from the pool or from the closing client.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    clients.set(svc, pool);
  }
  const p = pool;
  return async (text, params) => (await p.query(text, params)).rows;
}

/** Closes the raw connections, then stops the service and drops its database. */
export async function stopService(svc: TestService | undefined): Promise<void> {
  if (!svc) return;
  const pool = clients.get(svc);
  clients.delete(svc);
  await pool?.end();
  await svc.stop();
}

const GATE_STAND_IN = `
create or replace function test_schedule_sends(p_lead_ids jsonb, p_send_at timestamptz, p_window_end timestamptz)
returns jsonb language plpgsql volatile as $fn$
declare l record; b batches; v_tz text; v_e date; f sender_days; s sends; r jsonb := '[]'::jsonb;
begin
  for l in select * from leads where id in (select jsonb_array_elements_text(p_lead_ids)::bigint)
                                 and status in ('claimed', 'composed') order by id loop
    select * into b from batches where id = l.batch_id;
    select timezone into v_tz from senders where id = b.sender_id;
    v_e := (p_send_at at time zone v_tz)::date;
    if b.day <= v_e then
      perform ledger_lock(b.sender_id, b.day); f := ledger_lock(b.sender_id, v_e);
    else
      f := ledger_lock(b.sender_id, v_e); perform ledger_lock(b.sender_id, b.day);
    end if;
    if v_e <> b.day and f.quota - f.claimed - f.scheduled - f.sent <= 0 then
      raise exception using errcode = 'CR000', message = 'no_quota_room', detail = 'test gate: day is full';
    end if;
    perform ledger_adjust(b.sender_id, b.day, -1, 0, 0);
    perform ledger_adjust(b.sender_id, v_e, 0, 1, 0);
    insert into sends (lead_id, step, sender_id, day, status, to_email, subject, text, html, timezone,
                       timezone_source, send_at, window_end)
    values (l.id, 1, b.sender_id, v_e, 'scheduled', l.email, 'Hello ' || coalesce(l.first_name, ''), 'Hi',
            '<p>Hi</p>', 'UTC', 'test', p_send_at, p_window_end)
    returning * into s;
    update leads set status = 'scheduled', lease_expires_at = null where id = l.id;
    r := r || jsonb_build_array(send_json(s));
  end loop;
  return r;
end;
$fn$;`;

/** Installs the gate stand-in in this test database (once per service). */
export async function installGateStandIn(svc: TestService): Promise<void> {
  await rawSql(svc)(GATE_STAND_IN);
}

/** Turns claimed leads into scheduled sends (status scheduled) for [sendAt, windowEnd). */
export async function scheduleSends(
  svc: TestService,
  leadIds: string[],
  sendAt: Date,
  windowEnd: Date,
): Promise<any[]> {
  return svc.deps.db.call('test_schedule_sends', { p_lead_ids: leadIds, p_send_at: sendAt, p_window_end: windowEnd });
}

/** Imports `n` leads person{i}@{domain} and returns their ids in sequence order. */
export async function importLeads(svc: TestService, n: number, prefix = 'person', domain = 'example.com'): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += 5000) {
    const leads = Array.from({ length: Math.min(5000, n - start) }, (_, i) => ({
      email: `${prefix}${start + i}@${domain}`,
      firstName: `P${start + i}`,
    }));
    const r = await svc.api('POST', '/v1/leads/import', { leads });
    if (r.status !== 200) throw new Error(`import failed: ${JSON.stringify(r.body)}`);
    ids.push(...r.body.leadIds);
  }
  return ids;
}

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
