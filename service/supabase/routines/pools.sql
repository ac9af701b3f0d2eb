-- Pools: several mailboxes (senders) with one daily target (pools migration).

create or replace function pool_or_raise(p_pool text) returns pools
language plpgsql stable as $$
declare p pools;
begin
  select * into p from pools where id = p_pool;
  if not found then
    raise exception using errcode = 'CR000', message = 'pool_not_found',
      detail = format('No pool has id "%s".', p_pool);
  end if;
  return p;
end;
$$;

-- Each member's room today (its own sender-local day): its effective limit
-- (quota, ramp-up) less what the day already holds; none while its mailbox is
-- paused or when today is not one of its sending days. Read without locking the
-- ledger: the member's claim locks it and never exceeds it.
create or replace function pool_mailboxes_today(p_pool text, p_now timestamptz)
returns table (sender_id text, day date, limit_today integer, used integer, room integer, closed_reason text)
language plpgsql stable as $$
begin
  return query
  select s.id, x.day, coalesce(d.quota, sender_effective_limit(s, x.day)),
         coalesce(d.claimed + d.scheduled + d.sent, 0),
         case when x.closed is not null then 0
              else greatest(coalesce(d.quota - d.claimed - d.scheduled - d.sent, sender_effective_limit(s, x.day)), 0) end,
         x.closed
    from pool_members m
    join senders s on s.id = m.sender_id
    cross join lateral (
      select (p_now at time zone s.timezone)::date as day,
             case when mailbox_paused(s.id) then 'paused'
                  when (array['sun','mon','tue','wed','thu','fri','sat'])[extract(dow from (p_now at time zone s.timezone))::integer + 1]
                       <> all(s.window_days) then 'not_a_sending_day' end as closed) x
    left join sender_days d on d.sender_id = s.id and d.day = x.day
   where m.pool_id = p_pool
   order by s.id;
end;
$$;

create or replace function pool_json(p pools, p_now timestamptz default now()) returns jsonb
language plpgsql stable as $$
declare v_members jsonb;
begin
  select coalesce(jsonb_agg(jsonb_build_object(
           'sender', t.sender_id, 'day', to_char(t.day, 'YYYY-MM-DD'), 'limitToday', t.limit_today,
           'usedToday', t.used, 'roomToday', t.room, 'closedReason', t.closed_reason) order by t.sender_id), '[]'::jsonb)
    into v_members
    from pool_mailboxes_today(p.id, p_now) t;
  return jsonb_build_object(
    'id', p.id,
    'dailyTarget', p.daily_target,
    'usedToday', (select coalesce(sum((e->>'usedToday')::integer), 0) from jsonb_array_elements(v_members) e),
    'remainingToday', greatest(p.daily_target - (select coalesce(sum((e->>'usedToday')::integer), 0)
                                                    from jsonb_array_elements(v_members) e), 0),
    'members', v_members,
    'createdAt', p.created_at,
    'updatedAt', p.updated_at);
end;
$$;

create or replace function get_pool(p_pool text) returns jsonb
language plpgsql stable as $$
begin
  return pool_json(pool_or_raise(p_pool));
end;
$$;

-- Creates or updates a pool: { dailyTarget?, members?: [sender ids] }. Members
-- given replace the pool's members; a sender already in another pool is
-- refused (a lead keeps its mailbox, a mailbox keeps its pool's target).
create or replace function put_pool(p_pool text, p_body jsonb) returns jsonb
language plpgsql volatile as $$
declare
  p pools;
  v_member text;
  v_other text;
begin
  insert into pools (id) values (p_pool) on conflict (id) do nothing;
  select * into p from pools where id = p_pool for update;
  update pools set daily_target = coalesce((p_body->>'dailyTarget')::integer, daily_target), updated_at = now()
   where id = p_pool returning * into p;
  if p_body ? 'members' then
    for v_member in select jsonb_array_elements_text(p_body->'members') loop
      perform sender_or_raise(v_member);
      select pool_id into v_other from pool_members where sender_id = v_member;
      if v_other is not null and v_other <> p_pool then
        raise exception using errcode = 'CR000', message = 'sender_in_another_pool',
          detail = format('Sender "%s" is a member of pool "%s"; take it out of that pool first.', v_member, v_other);
      end if;
    end loop;
    delete from pool_members where pool_id = p_pool
       and sender_id not in (select jsonb_array_elements_text(p_body->'members'));
    insert into pool_members (sender_id, pool_id)
    select distinct m, p_pool from jsonb_array_elements_text(p_body->'members') m
    on conflict (sender_id) do nothing;
  end if;
  return pool_json(p);
end;
$$;

-- One member's share of a pool claim: the per-sender claim (claim_locked: its
-- ledger, its limit, its sequence rules) on the member's ledger row of today,
-- locked here (members are claimed in id order: the global ledger order).
-- p_scan_from: where the pool's previous member began its scan (see
-- lead_claim_scan in the batches migration). The members share one lead
-- queue, so each would otherwise step again over the dead queue entries every
-- other member's claims left since its own last claim (twenty mailboxes: twenty
-- times the work). Returns the batch's id, the leads it passed over, and where
-- the next member starts.
create or replace function pool_member_claim(p_sender text, p_size integer, p_key text,
                                             p_lease_seconds integer, p_now timestamptz, p_scan_from bigint)
returns jsonb language plpgsql volatile
-- as claim_batches: generic plans, keyed lookups only, no JIT
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
set jit = off
as $$
declare
  s senders := sender_or_raise(p_sender);
  v_day date := (p_now at time zone s.timezone)::date;
  v_epoch bigint;
  led sender_days;
  v_batch json;
begin
  led := ledger_lock(p_sender, v_day);
  select epoch into v_epoch from lead_claim_scan;
  if p_scan_from is not null and (led.claim_epoch <> v_epoch or led.claim_low < p_scan_from) then
    perform ledger_record_claim(p_sender, v_day, 0, p_scan_from, v_epoch);
  end if;
  v_batch := claim_locked(s, v_day, p_size, p_key, p_lease_seconds, p_now);
  select * into led from sender_days where sender_id = p_sender and day = v_day;
  return jsonb_build_object('batchId', v_batch->>'batchId', 'skipped', (v_batch->'skipped')::jsonb,
                            'scanFrom', case when led.claim_epoch = v_epoch then led.claim_low end);
end;
$$;

-- A lead of a pool claim: the lead, its mailbox (sender), batch and day, and its From.
-- Text is put together as lead_json does (a pool claim answers hundreds).
create or replace function pool_lead_json(l leads, b batches, s senders) returns json
language sql stable as $$
  select (left(lead_json(l)::text, -1)
          || ',"sender":' || to_json(b.sender_id)
          || ',"batchId":"' || b.id || '"'
          || ',"day":"' || to_char(b.day, 'YYYY-MM-DD') || '"'
          || ',"from":' || json_build_object('name', s.from_name, 'email', s.from_email)
          || '}')::json;
$$;

-- A pool's claim: the pool's room today (its target less what its mailboxes'
-- days already hold, first steps and follow-ups alike; at most p_size) spread
-- over the members in proportion to the room each has today (largest
-- remainders first, then in id order), each share claimed by the member's own
-- claim (pool_member_claim). A member is claimed only through its pool
-- (claim_batches refuses it), so nothing else adds claims to the pool's day.
-- Each lead claimed is the member's: its batch names the sender, the gate and
-- every follow-up send from it.
-- The pool row is locked first and held to the end: the pool's claims take turns
-- (several replicas, many callers), then each member's ledger row, in id order.
-- With an idempotency key each member's batch carries "pool:<pool>:<key>"; a
-- key seen before answers the same batches again (replayed).
-- One row: a set, so the service passes the answer on as text on every transport.
create or replace function claim_pool(
  p_pool text,
  p_size integer default null,
  p_idempotency_key text default null,
  p_lease_seconds integer default 3600,
  p_now timestamptz default now()
) returns setof json language plpgsql volatile as $$
declare
  p pools;
  v_key text := case when p_idempotency_key is not null then format('pool:%s:%s', p_pool, p_idempotency_key) end;
  v_replayed boolean := false;
  v_used integer;
  v_total_room integer;
  v_left integer;
  v_shares jsonb;
  v_batch_ids uuid[] := '{}';
  v_skipped jsonb := '[]'::jsonb;
  v_claim jsonb;
  v_scan_from bigint;
  r record;
begin
  p := pool_or_raise(p_pool);
  perform 1 from pools where id = p_pool for update;
  if p_size is not null and p_size not between 1 and 100000 then
    raise exception using errcode = 'CR000', message = 'validation_failed',
      detail = 'A pool claim''s size is a whole number from 1 to 100000.';
  end if;

  if v_key is not null then
    select coalesce(array_agg(b.id), '{}') into v_batch_ids
      from batches b join pool_members m on m.sender_id = b.sender_id
     where m.pool_id = p_pool and b.idempotency_key = v_key;
    v_replayed := cardinality(v_batch_ids) > 0;
  end if;

  if not v_replayed then
    select coalesce(jsonb_agg(jsonb_build_object('sender', t.sender_id, 'room', t.room) order by t.sender_id), '[]'::jsonb),
           coalesce(sum(t.used), 0), coalesce(sum(t.room), 0)
      into v_shares, v_used, v_total_room
      from pool_mailboxes_today(p_pool, p_now) t;
    v_left := least(greatest(p.daily_target - v_used, 0), v_total_room, coalesce(p_size, 2147483647));
    -- the furthest any member's scan of today may start (the queue is shared)
    select max(d.claim_low) into v_scan_from
      from pool_members m join senders s on s.id = m.sender_id
      join sender_days d on d.sender_id = s.id and d.day = (p_now at time zone s.timezone)::date
     where m.pool_id = p_pool and d.claim_epoch = (select epoch from lead_claim_scan);
    if v_left > 0 then
      for r in
        with f as (
          select e->>'sender' as sender_id, (e->>'room')::bigint as room,
                 v_left::bigint * (e->>'room')::bigint / v_total_room as floor_share,
                 v_left::bigint * (e->>'room')::bigint % v_total_room as remainder
            from jsonb_array_elements(v_shares) e
        ), ranked as (
          select f.*, row_number() over (order by remainder desc, sender_id) as rank from f
        )
        select sender_id,
               (floor_share + case when rank <= v_left - (select sum(floor_share) from f) then 1 else 0 end)::integer as share
          from ranked order by sender_id
      loop
        continue when r.share = 0;
        v_claim := pool_member_claim(r.sender_id, r.share, v_key, p_lease_seconds, p_now, v_scan_from);
        v_batch_ids := v_batch_ids || (v_claim->>'batchId')::uuid;
        v_skipped := v_skipped || coalesce(v_claim->'skipped', '[]'::jsonb);
        v_scan_from := greatest(v_scan_from, (v_claim->>'scanFrom')::bigint);
      end loop;
    end if;
  end if;

  -- built once from the batches (a replay leaves out leads released meanwhile)
  return next json_build_object(
    'pool', p.id,
    'dailyTarget', p.daily_target,
    'replayed', v_replayed,
    'batches', (select coalesce(json_agg(json_build_object(
                         'batchId', b.id, 'sender', b.sender_id, 'day', to_char(b.day, 'YYYY-MM-DD'),
                         'quota', d.quota, 'claimedToday', d.claimed + d.scheduled + d.sent,
                         'remainingToday', greatest(d.quota - d.claimed - d.scheduled - d.sent, 0),
                         'replayed', v_replayed) order by b.sender_id), '[]'::json)
                  from batches b join sender_days d on d.sender_id = b.sender_id and d.day = b.day
                 where b.id = any(v_batch_ids)),
    'skipped', v_skipped,
    'leads', (select coalesce(json_agg(pool_lead_json(l, b, s) order by l.id), '[]'::json)
                from batches b
                join senders s on s.id = b.sender_id
                join leads l on l.id = any(b.lead_ids) and l.batch_id = b.id
               where b.id = any(v_batch_ids)),
    'today', pool_json(p, p_now) - 'createdAt' - 'updatedAt');
  return;
end;
$$;

-- A mailbox was paused: its scheduled first emails go to its pool's other
-- mailboxes, each to the member with the most room on the day the email is
-- due there (that member's ledger takes it; its limit holds), and goes out
-- from that mailbox (the send names its sender). What cannot move waits for
-- the resume: follow-ups (their thread is this mailbox's), sends already tried
-- (their Message-ID is on this mailbox's domain), and sends no member has room
-- for. Called inside pause_mailbox, which may hold lead and ledger rows:
-- everything here is taken without waiting (SKIP LOCKED, ledger_try_lock).
create or replace function pool_move_scheduled_sends(p_sender text, p_now timestamptz) returns jsonb
language plpgsql volatile as $$
declare
  r record;
  t record;
  v_pool text;
  v_day date;
  v_moved integer := 0;
  v_waiting integer := 0;
  v_done boolean;
  v_led sender_days;
  v_own sender_days;
begin
  select pool_id into v_pool from pool_members where sender_id = p_sender;
  for r in select * from sends where sender_id = p_sender and status in ('scheduled', 'failed')
            order by send_at, id for update skip locked loop
    v_done := false;
    -- a lead's first email (no earlier step: no thread yet), never tried
    if v_pool is not null and r.status = 'scheduled' and r.message_id is null and r.attempts = 0
       and not exists (select 1 from sends p where p.lead_id = r.lead_id and p.step < r.step) then
      for t in
        select s.id, (r.send_at at time zone s.timezone)::date as day
          from pool_members m join senders s on s.id = m.sender_id
         where m.pool_id = v_pool and m.sender_id <> p_sender and not mailbox_paused(m.sender_id)
         order by coalesce((select d.quota - d.claimed - d.scheduled - d.sent from sender_days d
                             where d.sender_id = s.id and d.day = (r.send_at at time zone s.timezone)::date),
                           sender_effective_limit(s, (r.send_at at time zone s.timezone)::date)) desc, s.id
      loop
        -- the member's day, and this mailbox's, both without waiting
        select * into v_led from ledger_try_lock(t.id, t.day);
        continue when v_led.sender_id is null or v_led.quota - v_led.claimed - v_led.scheduled - v_led.sent <= 0;
        select * into v_own from ledger_try_lock(p_sender, r.day);
        exit when v_own.sender_id is null;
        perform ledger_adjust(p_sender, r.day, 0, -1, 0);
        perform ledger_adjust(t.id, t.day, 0, 1, 0);
        update sends set sender_id = t.id, day = t.day, updated_at = p_now where id = r.id;
        v_moved := v_moved + 1;
        v_done := true;
        exit;
      end loop;
    end if;
    if not v_done then
      v_waiting := v_waiting + 1;
    end if;
  end loop;
  return jsonb_build_object('moved', v_moved, 'waiting', v_waiting);
end;
$$;
