-- The daily batch: claims of leads against a sender-day's quota.

-- The answer of a claim, fresh or replayed: the leads still in the batch (a
-- replay leaves out those released meanwhile) with the day's ledger as it is now.
-- plpgsql, not sql: its plan is kept for the session instead of made per claim.
create or replace function batch_json(b batches, p_replayed boolean, p_skipped jsonb) returns json
language plpgsql stable as $$
begin
  return (
    select json_build_object(
      'batchId', b.id,
      'sender', b.sender_id,
      'day', to_char(b.day, 'YYYY-MM-DD'),
      'quota', coalesce(d.quota, s.daily_quota),
      'claimedToday', coalesce(d.claimed + d.scheduled + d.sent, 0),
      'remainingToday', greatest(coalesce(d.quota - d.claimed - d.scheduled - d.sent, s.daily_quota), 0),
      'replayed', p_replayed,
      'skipped', coalesce(p_skipped, '[]'::jsonb),
      'leads', coalesce((select json_agg(lead_json(l) order by l.step > 1 desc, l.id)
                           from leads l where l.id = any(b.lead_ids) and l.batch_id = b.id), '[]'::json))
    from senders s
    left join sender_days d on d.sender_id = s.id and d.day = b.day
    where s.id = b.sender_id);
end;
$$;

-- One claim of a sender-day whose ledger row the caller holds locked (see
-- claim_batches): the next eligible leads in ascending sequence, within what is
-- left of the day's quota. Leads are taken from the front of lead_queue (SKIP
-- LOCKED: claims of other senders take other leads), classified (no email,
-- suppressed, in a country the sender does not email → skipped with the
-- reason) and updated in one statement; the batch
-- row is written once at the end. A known idempotency key answers its batch again.
create or replace function claim_locked(
  s senders,
  p_day date,
  p_size integer,
  p_idempotency_key text,
  p_lease_seconds integer,
  p_now timestamptz
) returns json language plpgsql volatile as $$
declare
  led sender_days;
  v_batch batches;
  v_batch_id uuid := gen_random_uuid();
  v_need integer;
  v_lease timestamptz := p_now + make_interval(secs => p_lease_seconds);
  v_from bigint;
  v_pick bigint[];
  v_got bigint[];
  v_ids bigint[] := '{}';
  v_sk jsonb;
  v_skipped jsonb := '[]'::jsonb;
  v_epoch bigint;
  v_low bigint;
  v_day_end timestamptz := (p_day + 1)::timestamp at time zone s.timezone;
  v_seen bigint[] := '{}';
  v_taken bigint[];
begin
  if p_idempotency_key is not null then
    select * into v_batch from batches where sender_id = s.id and idempotency_key = p_idempotency_key;
    if found then
      return batch_json(v_batch, true, '[]'::jsonb);
    end if;
  end if;

  select * into led from sender_days where sender_id = s.id and day = p_day;
  v_need := greatest(led.quota - led.claimed - led.scheduled - led.sent, 0);
  if p_size is not null then v_need := least(v_need, p_size); end if;
  -- where this sender-day's scan may start (read before the scan, see lead_claim_scan)
  select epoch into v_epoch from lead_claim_scan;
  v_low := case when led.claim_epoch = v_epoch then led.claim_low else 0 end;

  -- Follow-ups due by the end of this sender-local day first (their timing
  -- matters), earliest due first, from the same quota. A waiting follow-up whose
  -- lead stopped meanwhile is only dropped; one whose lead another request holds
  -- right now is left for the next claim.
  while v_need > 0 loop
    with f as materialized (
      select q.lead_id, q.step from followups q
       where q.sender_id = s.id and q.due_at < v_day_end and q.lead_id <> all(v_seen)
       order by q.due_at, q.lead_id limit v_need
         for update skip locked
    ), k as materialized (
      select l.id, f.step,
             case when l.status <> 'sent' then 'gone'
                  when exists (select from send_blocked(l.email, l.company_domain)) then 'suppressed' end as skip
        from f join leads l on l.id = f.lead_id
         for no key update of l skip locked
    ), taken as (
      delete from followups q using k where q.lead_id = k.id
    ), upd as (
      update leads l
         set status = case when k.skip is null then 'claimed' else 'skipped' end,
             status_reason = k.skip,
             step = k.step,
             batch_id = case when k.skip is null then v_batch_id end,
             claimed_at = case when k.skip is null then p_now end,
             lease_expires_at = case when k.skip is null then v_lease end,
             updated_at = p_now
        from k
       where l.id = k.id and k.skip is distinct from 'gone'
      returning l.id, k.skip
    )
    select (select array_agg(lead_id) from f),
           (select array_agg(id order by id) filter (where skip is null) from upd),
           (select jsonb_agg(jsonb_build_object('leadId', id::text, 'reason', skip) order by id) filter (where skip is not null) from upd)
      into v_taken, v_got, v_sk;
    exit when v_taken is null;
    v_seen := v_seen || v_taken;
    v_ids := v_ids || coalesce(v_got, '{}');
    v_skipped := v_skipped || coalesce(v_sk, '[]'::jsonb);
    v_need := v_need - coalesce(cardinality(v_got), 0);
  end loop;

  v_from := v_low;
  while v_need > 0 loop
    select array_agg(lead_id order by lead_id) into v_pick
      from (select lead_id from lead_queue where lead_id >= v_from
             order by lead_id limit v_need for update skip locked) q;
    exit when v_pick is null;
    if v_from = v_low then
      v_low := v_pick[1]; -- the next claim of this sender-day starts where this one first looked
    end if;
    v_from := v_pick[cardinality(v_pick)] + 1;
    -- One statement: lock, classify, dequeue and update the picked leads.
    -- The claim holds the quota row, so it never waits for a lead: a lead someone
    -- else holds right now (the gate, an event) is left queued for the next claim.
    -- k is materialized: five SET columns read its verdict, which would otherwise
    -- be worked out five times. A queued lead that stopped being new while it
    -- waited is only dequeued.
    with k as materialized (
      select id, case when nullif(btrim(email), '') is null then 'no_email'
                      when exists (select from send_blocked(email, company_domain)) then 'suppressed'
                      when country = any(s.blocked_countries) then 'country_blocked' end as skip
        from leads where id = any(v_pick)
         for no key update skip locked
    ), taken as (
      delete from lead_queue q using k where q.lead_id = k.id
    ), upd as (
      update leads l
         set status = case when k.skip is null then 'claimed' else 'skipped' end,
             status_reason = k.skip,
             batch_id = case when k.skip is null then v_batch_id end,
             claimed_at = case when k.skip is null then p_now end,
             lease_expires_at = case when k.skip is null then v_lease end,
             updated_at = p_now
        from k
       where l.id = k.id and l.status = 'new'
      returning l.id, k.skip
    )
    select array_agg(id order by id) filter (where skip is null),
           jsonb_agg(jsonb_build_object('leadId', id::text, 'reason', skip) order by id) filter (where skip is not null)
      into v_got, v_sk
      from upd;
    v_ids := v_ids || coalesce(v_got, '{}');
    v_skipped := v_skipped || coalesce(v_sk, '[]'::jsonb);
    v_need := v_need - coalesce(cardinality(v_got), 0);
  end loop;

  insert into batches (id, sender_id, day, idempotency_key, size_requested, lead_ids, created_at,
                       lease_expires_at, lease_settled_at)
  values (v_batch_id, s.id, p_day, p_idempotency_key, p_size, v_ids, p_now,
          v_lease, case when cardinality(v_ids) = 0 then p_now end)
  returning * into v_batch;
  perform ledger_record_claim(s.id, p_day, cardinality(v_ids), v_low, v_epoch);

  return batch_json(v_batch, false, v_skipped);
end;
$$;

-- Claims for one sender, answered in order, one row each:
-- p_claims = [{"size": 10, "idempotencyKey": "..."}, ...] (both optional).
-- The ledger row of the sender's day is locked first and held to the end, so
-- concurrent claims of one sender take turns and the quota arithmetic is exact.
-- Several claims in one call take their turns inside one transaction: the
-- service sends the claims that arrived while the sender's previous call ran
-- (a busy sender's claims cost one lock and one commit per call, not per claim).
--
-- Claims with the same idempotency key take turns on an advisory lock (class
-- 7262026, the hash of sender and key), taken before the ledger in hash order:
-- one lock order for everyone. The second one sees the first one's batch, even
-- when the two count on different days (around the sender's midnight) and so
-- hold different ledger rows.
create or replace function claim_batches(
  p_sender text,
  p_claims jsonb,
  p_lease_seconds integer default 3600,
  p_now timestamptz default now()
) returns setof json language plpgsql volatile
-- Generic plans (made once per connection) for every statement of the claim:
-- with custom plans (the default for a while) each claim planned its queries
-- again, a third of its time. Every statement here is a keyed lookup; with
-- sequential scans off, a plan made while a table's statistics still said
-- "empty" (lead_queue before its first ANALYZE) cannot be a scan of 1M rows.
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
-- (and no JIT: a disabled scan's cost would look like work worth compiling)
set jit = off
as $$
declare
  s senders;
  v_day date;
  v_key_hash integer;
  c record;
begin
  s := sender_or_raise(p_sender);
  -- a pool's mailbox takes its leads from its pool's claim (the pool's target)
  if exists (select 1 from pool_members where sender_id = p_sender) then
    raise exception using errcode = 'CR000', message = 'sender_in_pool',
      detail = format('Sender "%s" is a mailbox of pool "%s": claim the pool, which spreads its daily target over its mailboxes.',
                      p_sender, (select pool_id from pool_members where sender_id = p_sender));
  end if;
  -- a paused mailbox takes no new leads (nothing silent: the caller learns why)
  if mailbox_paused(p_sender) then
    raise exception using errcode = 'CR000', message = 'mailbox_paused',
      detail = format('The mailbox of sender "%s" is paused (%s); nothing is claimed or sent for it until a person resumes it.',
                      p_sender, (select paused_reason from mailboxes where sender_id = p_sender));
  end if;
  if jsonb_typeof(p_claims) is distinct from 'array' or exists (
       select 1 from jsonb_array_elements(p_claims) e
        where jsonb_typeof(e) <> 'object'
           or case coalesce(jsonb_typeof(e->'size'), 'null')
                when 'null' then false
                when 'number' then (e->>'size')::numeric not between 1 and 100000
                                   or (e->>'size')::numeric <> trunc((e->>'size')::numeric)
                else true end
           or coalesce(jsonb_typeof(e->'idempotencyKey'), 'null') not in ('string', 'null')) then
    raise exception using errcode = 'CR000', message = 'validation_failed',
      detail = 'Each claim is an object with an optional whole size from 1 to 100000 and an optional idempotencyKey.';
  end if;

  for v_key_hash in select distinct hashtext(p_sender || '/' || (e->>'idempotencyKey'))
                     from jsonb_array_elements(p_claims) e
                    where e->>'idempotencyKey' is not null order by 1 loop
    perform pg_advisory_xact_lock(7262026, v_key_hash);
  end loop;
  v_day := (p_now at time zone s.timezone)::date;
  perform ledger_lock(p_sender, v_day);

  for c in select (e->>'size')::integer as size, e->>'idempotencyKey' as idempotency_key
             from jsonb_array_elements(p_claims) with ordinality t(e, n) order by n loop
    return next claim_locked(s, v_day, c.size, c.idempotency_key, p_lease_seconds, p_now);
  end loop;
end;
$$;

-- One claim (SQL callers; the service sends its claims through claim_batches).
create or replace function claim_batch(
  p_sender text,
  p_size integer default null,
  p_idempotency_key text default null,
  p_lease_seconds integer default 3600,
  p_now timestamptz default now()
) returns json language sql volatile as $$
  select claim_batches(p_sender,
                       jsonb_build_array(jsonb_build_object('size', p_size, 'idempotencyKey', p_idempotency_key)),
                       p_lease_seconds, p_now);
$$;
