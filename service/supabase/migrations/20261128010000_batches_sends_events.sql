-- The daily batch and the send lifecycle: quota, locking, at-most-once,
-- replies and suppression. Every request is one function; every clock is a
-- parameter (p_now) so tests can walk through days.
--
-- Lock order (deadlock freedom): quota ledger rows (sender_days) first, in
-- ascending (sender, day) order; then lead / send rows. Functions that touch
-- rows before the ledger only ever do so with SKIP LOCKED.

alter table events add column if not exists result jsonb;
alter table events add column if not exists send_id bigint references sends (id);
-- The sender whose email the event answers (stats count it for that sender):
-- the send it was matched to, else the lead's latest send, else the batch that
-- claimed the lead; null for an event about no lead of ours.
alter table events add column if not exists sender_id text references senders (id);

-- A human retry keeps attempt numbers unique (they go on counting) and starts
-- a fresh retry budget from here.
alter table sends add column if not exists retry_base integer not null default 0;

-- The leads waiting to be claimed, in sequence order: one narrow row per lead.
-- The claim takes (deletes) rows from its front instead of scanning leads, so it
-- touches only this table's small index, and its update of the leads themselves
-- changes no indexed column (HOT, see the leads table). Every lead that is new
-- has a row here: the triggers below add one when a lead is inserted new or
-- becomes new again (a released claim). A row whose lead is no longer new (it
-- replied, or was suppressed, while waiting) is dropped by the claim that meets it.
create table if not exists lead_queue (
  lead_id bigint primary key references leads (id) on delete cascade
);

create or replace function lead_queue_add_inserted() returns trigger
language plpgsql as $$
begin
  insert into lead_queue (lead_id) select id from inserted_leads where status = 'new'
  on conflict do nothing;
  return null;
end;
$$;

create or replace function lead_queue_add_renewed() returns trigger
language plpgsql as $$
begin
  insert into lead_queue (lead_id) values (new.id) on conflict do nothing;
  return null;
end;
$$;

-- One statement-level trigger for inserts (an import of 5,000 leads queues them
-- in one insert); a row trigger only for the rare update back to new, so the
-- claim's own update of 400 leads fires nothing.
drop trigger if exists lead_queue_on_insert on leads;
create trigger lead_queue_on_insert after insert on leads
  referencing new table as inserted_leads
  for each statement execute function lead_queue_add_inserted();
drop trigger if exists lead_queue_on_renew on leads;
create trigger lead_queue_on_renew after update of status on leads
  for each row when (new.status = 'new' and old.status is distinct from 'new')
  execute function lead_queue_add_renewed();

insert into lead_queue (lead_id) select id from leads where status = 'new' on conflict do nothing;

-- A claim's lease, on its batch: the sweeper finds expired claims here instead
-- of through an index on leads (which would make every claim update non-HOT).
-- lease_settled_at: the sweeper has seen the lease end and nothing of the batch
-- is left claimed or composed.
alter table batches add column if not exists lease_expires_at timestamptz;
alter table batches add column if not exists lease_settled_at timestamptz;
create index if not exists batches_unsettled_lease on batches (lease_expires_at) where lease_settled_at is null;

-- Where a claim's scan starts. Claimed leads leave dead entries at the front of
-- the queue's index until VACUUM; every claim stepping over all of them again
-- made claims slower with each lead claimed. Each sender-day
-- remembers the lowest id its last claim picked: under the ledger lock nothing
-- below it is still new, except leads that became new again (the sweeper's
-- released claims, a claim rolled back after its scan). The sweeper bumps a
-- global epoch on every run, and a sender-day whose remembered epoch differs
-- scans from the start once: a lead can be passed over for at most one sweep
-- interval.
alter table sender_days add column if not exists claim_low bigint not null default 0;
alter table sender_days add column if not exists claim_epoch bigint not null default 0;
create table if not exists lead_claim_scan (
  singleton boolean primary key default true check (singleton),
  epoch bigint not null default 0
);
insert into lead_claim_scan (singleton) values (true) on conflict do nothing;

-- claim-due scans pending sends (scheduled, or failed and waiting for a retry) by time
create index if not exists sends_pending_due on sends (send_at) where status in ('scheduled', 'failed');
create index if not exists sends_pending_window on sends (window_end) where status in ('scheduled', 'failed');
create index if not exists sends_lead on sends (lead_id);
create index if not exists sends_status_updated on sends (status, updated_at desc, id desc);
create index if not exists events_received on events (received_at);
create index if not exists events_sender_received on events (sender_id, received_at);

-- "<abc@x>", " abc@x " and "abc@x" are the same Message-ID.
create or replace function norm_message_id(p text) returns text
language sql immutable as $$
  select nullif(btrim(btrim(p), '<>'), '');
$$;

-- A domain as suppressions compare it: lower case, without blanks, tabs or line
-- breaks around it, without a final dot ("ACME.com. " is acme.com).
create or replace function clean_domain(p_domain text) returns text
language sql immutable as $$
  select rtrim(lower(btrim(p_domain, E' \t\r\n')), '.');
$$;

-- A domain and the domains above it, down to two labels: a suppressed acme.com
-- also stops mail to eu.acme.com (up to four labels deeper). Written as one
-- expression so Postgres inlines it (the claim checks 400 addresses at a time);
-- a domain with a single dot, the usual case, costs no pattern match.
create or replace function domain_keys(p_domain text) returns text[]
language sql immutable as $$
  select case when clean_domain(p_domain) like '%.%.%' then array[
      clean_domain(p_domain),
      substring(clean_domain(p_domain) from '^[^.]+\.(.+\..+)$'),
      substring(clean_domain(p_domain) from '^(?:[^.]+\.){2}(.+\..+)$'),
      substring(clean_domain(p_domain) from '^(?:[^.]+\.){3}(.+\..+)$'),
      substring(clean_domain(p_domain) from '^(?:[^.]+\.){4}(.+\..+)$')]
    else array[nullif(clean_domain(p_domain), '')] end;
$$;

-- Every suppression value that stops mail to an address: the address, the same
-- inbox without a "+tag" (john+offers@acme.com is john@acme.com), and its
-- domain and the domains above it.
create or replace function suppression_keys(p_email text) returns text[]
language sql immutable as $$
  select array[lower(btrim(p_email, E' \t\r\n')),
               case when strpos(p_email, '+') > 0 then regexp_replace(lower(btrim(p_email, E' \t\r\n')), '\+[^@]*@', '@') end]
         || domain_keys(split_part(lower(btrim(p_email, E' \t\r\n')), '@', 2));
$$;

-- True when the address is suppressed (see suppression_keys).
create or replace function is_suppressed(p_email text) returns boolean
language sql stable as $$
  select exists (select 1 from suppressions where value = any(suppression_keys(p_email)));
$$;

-- A lead that answered or opted out: nothing more is sent to it.
create or replace function lead_stopped(p_lead_id bigint) returns boolean
language sql stable as $$
  select exists (select 1 from leads where id = p_lead_id
                  and status in ('replied', 'bounced', 'unsubscribed', 'complained'));
$$;

-- The ledger row of a sender-day, locked. Every claim, gate and outcome locks one:
-- take the existing row straight away and only try an insert (with the sender's
-- quota) for a day seen for the first time.
create or replace function ledger_lock(p_sender text, p_day date) returns sender_days
language plpgsql volatile as $$
declare r sender_days;
begin
  select * into r from sender_days where sender_id = p_sender and day = p_day for update;
  if found then
    return r;
  end if;
  insert into sender_days (sender_id, day, quota)
  select id, p_day, daily_quota from senders where id = p_sender
  on conflict do nothing;
  select * into r from sender_days where sender_id = p_sender and day = p_day for update;
  return r;
end;
$$;

-- The ledger row of a sender-day if it can be locked without waiting, else
-- null (another request holds it, or is creating it right now). For a caller
-- that already holds lead or send rows: waiting for a ledger row there could
-- close a cycle with a request that holds the ledger row and waits for those
-- rows (the global order is ledger rows first). A row this transaction already
-- holds is returned. (An insert of a day another transaction is inserting waits
-- for that transaction; the lock_timeout turns that wait into "busy".)
create or replace function ledger_try_lock(p_sender text, p_day date) returns sender_days
language plpgsql volatile set lock_timeout = '50ms' as $$
declare r sender_days;
begin
  select * into r from sender_days where sender_id = p_sender and day = p_day for update skip locked;
  if found or exists (select 1 from sender_days where sender_id = p_sender and day = p_day) then
    return r;
  end if;
  begin
    insert into sender_days (sender_id, day, quota)
    select id, p_day, daily_quota from senders where id = p_sender
    on conflict do nothing;
  exception when lock_not_available then
    return null;
  end;
  select * into r from sender_days where sender_id = p_sender and day = p_day for update skip locked;
  return r;
end;
$$;

-- Adds deltas to a sender-day (the table's check keeps it within quota).
create or replace function ledger_adjust(p_sender text, p_day date, p_claimed integer, p_scheduled integer, p_sent integer)
returns void language plpgsql volatile as $$
begin
  perform ledger_lock(p_sender, p_day);
  update sender_days
     set claimed = claimed + p_claimed, scheduled = scheduled + p_scheduled, sent = sent + p_sent
   where sender_id = p_sender and day = p_day;
end;
$$;

-- Locks the given sender-days in ascending order (the global lock order).
create or replace function ledger_lock_all(p_days jsonb) returns void
language plpgsql volatile as $$
declare d record;
begin
  for d in select distinct x->>'sender' as sender_id, (x->>'day')::date as day
             from jsonb_array_elements(coalesce(p_days, '[]'::jsonb)) x
            where x->>'sender' is not null and x->>'day' is not null
            order by 1, 2 loop
    perform ledger_lock(d.sender_id, d.day);
  end loop;
end;
$$;

-- A Send's localTime carries the recipient's UTC offset ("2026-03-09T10:30:00-04:00"),
-- the same shape the gate returns, so claim-due, lists and the gate agree.
create or replace function send_json(s sends) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'sendId', s.id::text,
    'leadId', s.lead_id::text,
    'step', s.step,
    'sender', s.sender_id,
    'day', to_char(s.day, 'YYYY-MM-DD'),
    'to', s.to_email,
    'subject', s.subject,
    'text', s.text,
    'html', s.html,
    'timezone', s.timezone,
    'timezoneSource', s.timezone_source,
    'localTime', to_char(s.send_at at time zone s.timezone, 'YYYY-MM-DD"T"HH24:MI:SS')
                 || case when o.off < 0 then '-' else '+' end
                 || lpad((abs(o.off) / 3600)::text, 2, '0') || ':' || lpad((abs(o.off) % 3600 / 60)::text, 2, '0'),
    'sendAt', s.send_at,
    'windowEnd', s.window_end,
    'status', s.status,
    'attempts', s.attempts,
    'leaseExpiresAt', s.lease_expires_at,
    'lastError', s.last_error,
    'messageId', s.message_id,
    'sentAt', s.sent_at)
  from (select extract(epoch from (s.send_at at time zone s.timezone) - (s.send_at at time zone 'UTC'))::integer as off) o;
$$;

-- ---------------------------------------------------------------------------
-- The daily batch
-- ---------------------------------------------------------------------------

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
      'leads', coalesce((select json_agg(lead_json(l) order by l.id)
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
-- suppressed → skipped with the reason) and updated in one statement; the batch
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
  v_check boolean;
  v_lease timestamptz := p_now + make_interval(secs => p_lease_seconds);
  v_from bigint;
  v_pick bigint[];
  v_got bigint[];
  v_ids bigint[] := '{}';
  v_sk jsonb;
  v_skipped jsonb := '[]'::jsonb;
  v_epoch bigint;
  v_low bigint;
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
  v_check := exists (select 1 from suppressions);
  -- where this sender-day's scan may start (read before the scan, see lead_claim_scan)
  select epoch into v_epoch from lead_claim_scan;
  v_low := case when led.claim_epoch = v_epoch then led.claim_low else 0 end;

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
                      -- is_suppressed(email), written out: a SQL function with a
                      -- subquery is never inlined, and 400 calls cost 8 ms
                      when v_check and exists (select 1 from suppressions
                                                where value = any(suppression_keys(email))) then 'suppressed' end as skip
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
  update sender_days set claimed = claimed + cardinality(v_ids), claim_low = v_low, claim_epoch = v_epoch
   where sender_id = s.id and day = p_day;

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
--
-- synchronous_commit is off for this transaction only: the ledger row is the
-- one lock every claim of a sender-day waits for, and waiting for the WAL flush
-- while holding it would cap claims at one disk flush each. A claim lost in a
-- database crash (never in a service crash) only returns its leads to 'new';
-- nothing can be sent twice because sends are unique per (lead, step) and every
-- send-side function keeps synchronous commit.
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
  perform set_config('synchronous_commit', 'off', true);
  select * into s from senders where id = p_sender;
  if not found then
    raise exception using errcode = 'CR404', message = 'sender_not_found',
      detail = format('No sender has id "%s". Create it with PUT /v1/senders/%s.', p_sender, p_sender);
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
    raise exception using errcode = 'CR400', message = 'validation_failed',
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

-- ---------------------------------------------------------------------------
-- Sends
-- ---------------------------------------------------------------------------

-- Leases due sends for sending: only inside the window they were scheduled for,
-- never to a suppressed address or a lead that already answered. Touches no
-- ledger row (a leased send still counts as scheduled for its day).
-- A send is handed out only on the sender-local day it counts on. A recipient
-- window can run past the sender's midnight (Auckland's 09:00-17:00 is
-- 20:00-04:00 UTC): a send not handed out by the sender's midnight (n8n polled
-- late, the service was down, a retry's backoff) is left, counts as missed, and
-- the sweeper moves it (with its quota) to the first window on a day with room,
-- never on top of the next day's full quota. windowEnd keeps meaning the
-- recipient's window end.
create or replace function claim_due_sends(
  p_sender text default null,
  p_limit integer default 100,
  p_lease_seconds integer default 600,
  p_now timestamptz default now()
) returns jsonb language plpgsql volatile as $$
declare v jsonb;
begin
  if p_sender is not null and not exists (select 1 from senders where id = p_sender) then
    raise exception using errcode = 'CR404', message = 'sender_not_found',
      detail = format('No sender has id "%s".', p_sender);
  end if;
  with picked as materialized (
    select s.id from sends s join senders se on se.id = s.sender_id
     where s.status in ('scheduled', 'failed')
       and s.send_at <= p_now
       and (s.window_end is null or s.window_end > p_now)
       -- only on the sender-local day it counts on
       and p_now < ((s.day + 1)::timestamp at time zone se.timezone)
       and (p_sender is null or s.sender_id = p_sender)
       and not is_suppressed(s.to_email)
       and not exists (select 1 from leads l where l.id = s.lead_id
                        and l.status in ('replied', 'bounced', 'unsubscribed', 'complained'))
     order by s.send_at, s.id
     limit p_limit
     for update of s skip locked
  ), leased as (
    update sends s
       set status = 'sending', attempts = s.attempts + 1,
           lease_expires_at = p_now + make_interval(secs => p_lease_seconds), updated_at = p_now
      from picked where s.id = picked.id
    returning s.*
  ), lead_update as (
    update leads l set status = 'sending', updated_at = p_now
      from leased where l.id = leased.lead_id and l.status in ('composed', 'scheduled', 'sending')
  )
  select coalesce(jsonb_agg(send_json(leased) order by leased.send_at, leased.id), '[]'::jsonb)
    into v from leased;
  return jsonb_build_object('sends', v);
end;
$$;

-- Cancels a lead's pending sends (scheduled, or failed and waiting for a retry)
-- and releases their quota. The caller holds the ledger rows of their days.
--
-- Lock order: claim-due and report lock a send, then its lead; record_event
-- locks the lead, then cancels its pending sends. Waiting there for a send
-- another request holds closed the cycle: a reply arriving while claim-due held
-- the lead's send deadlocked and Postgres failed one of them. A pending send
-- someone else holds is left alone instead: whatever that request does, the send
-- is never handed out to a stopped lead or a suppressed address (claim-due
-- checks both) and the sweeper cancels it.
create or replace function cancel_pending_sends(p_lead_id bigint, p_reason text, p_now timestamptz)
returns integer language plpgsql volatile as $$
declare r record; n integer := 0;
begin
  for r in select id, sender_id, day from sends
            where lead_id = p_lead_id and status in ('scheduled', 'failed') order by id for update skip locked loop
    perform ledger_adjust(r.sender_id, r.day, 0, -1, 0);
    update sends set status = 'cancelled', last_error = p_reason, lease_expires_at = null, updated_at = p_now
     where id = r.id;
    n := n + 1;
  end loop;
  return n;
end;
$$;

-- Records outcomes reported by the sender (n8n). All-or-nothing: an unknown
-- send id rejects the whole report. Reporting a result twice changes nothing.
-- A result may name the attempt it is about (the Send's `attempts` when it was
-- handed out): a report about an earlier attempt is ignored, so a repeated
-- failure report can never fail (and re-queue) a later attempt in flight.
create or replace function report_sends(
  p_results jsonb,
  p_max_attempts integer default 5,
  p_backoff_seconds integer default 300,
  p_now timestamptz default now()
) returns jsonb language plpgsql volatile as $$
declare
  v_unknown text;
  v_conflict text;
  r record;
  v_recorded integer := 0;
  v_retrying integer := 0;
  v_dead integer := 0;
  v_dupes integer := 0;
  v_ignored jsonb := '[]'::jsonb;
  v_msg text;
  v_permanent boolean;
  v_delay double precision;
  v_was_review boolean;
  v_stopped text;
  v_cancelled integer := 0;
begin
  select string_agg(x->>'sendId', ', ') into v_unknown
    from jsonb_array_elements(p_results) x
   where not exists (select 1 from sends s where s.id = (x->>'sendId')::bigint);
  if v_unknown is not null then
    raise exception using errcode = 'CR404', message = 'send_not_found',
      detail = format('No send has id %s; nothing was recorded. Report only ids from the gate or claim-due.', v_unknown);
  end if;
  select string_agg(x->>'sendId', ', ') into v_conflict
    from jsonb_array_elements(p_results) x
    join sends s on s.message_id = norm_message_id(x->>'messageId') and s.id <> (x->>'sendId')::bigint
   where x->>'status' = 'sent';
  if v_conflict is not null then
    raise exception using errcode = 'CR409', message = 'message_id_conflict',
      detail = format('The messageId reported for send %s already belongs to another send; nothing was recorded.', v_conflict);
  end if;

  perform ledger_lock_all((select jsonb_agg(jsonb_build_object('sender', s.sender_id, 'day', s.day))
                             from sends s join jsonb_array_elements(p_results) x on s.id = (x->>'sendId')::bigint));

  for r in select s.*, x.value as input
             from sends s join jsonb_array_elements(p_results) x on s.id = (x.value->>'sendId')::bigint
            order by s.id for update of s loop
    v_was_review := r.status = 'needs_review';
    if (r.input->>'attempt')::integer is distinct from null and (r.input->>'attempt')::integer <> r.attempts then
      -- a late or repeated report about an earlier attempt must not settle the current one
      v_ignored := v_ignored || jsonb_build_object('sendId', r.id::text, 'status', r.status,
        'reason', format('stale: the report is about attempt %s, the send is on attempt %s; nothing recorded',
                         r.input->>'attempt', r.attempts));
    elsif r.input->>'status' = 'sent' then
      v_msg := norm_message_id(r.input->>'messageId');
      if r.status in ('sending', 'needs_review') then
        if r.status = 'sending' then perform ledger_adjust(r.sender_id, r.day, 0, -1, 1); end if;
        update sends set status = 'sent', message_id = coalesce(v_msg, message_id), sent_at = p_now,
                         lease_expires_at = null, last_error = null, updated_at = p_now
         where id = r.id;
        update leads set status = 'sent', status_reason = null, updated_at = p_now
         where id = r.lead_id and status in ('scheduled', 'sending', 'needs_review', 'composed');
        v_recorded := v_recorded + 1;
      elsif r.status = 'sent' then
        v_dupes := v_dupes + 1;
      else
        v_ignored := v_ignored || jsonb_build_object('sendId', r.id::text, 'status', r.status,
          'reason', format('the send is %s, not sending: nothing recorded', r.status));
      end if;
    else
      v_permanent := coalesce((r.input->>'permanent')::boolean, false);
      -- the lead answered or the address was suppressed while this attempt was out:
      -- a failed attempt is not tried again
      select case when l.status in ('replied', 'bounced', 'unsubscribed', 'complained') then l.status
                  when is_suppressed(r.to_email) then 'suppressed' end
        into v_stopped from leads l where l.id = r.lead_id;
      if r.status in ('sending', 'needs_review') then
        v_recorded := v_recorded + 1;
        if v_stopped is not null and not v_permanent then
          perform ledger_adjust(r.sender_id, r.day, 0,
                                case when v_was_review then 0 else -1 end,
                                case when v_was_review then -1 else 0 end);
          update sends set status = 'cancelled', lease_expires_at = null, updated_at = p_now,
                           last_error = format('%s (not retried: the lead is %s)', coalesce(r.input->>'error', 'failed'), v_stopped)
           where id = r.id;
          update leads set status = 'skipped', status_reason = 'suppressed', updated_at = p_now
           where id = r.lead_id and status in ('sending', 'needs_review', 'scheduled');
          v_cancelled := v_cancelled + 1;
        elsif v_permanent or r.attempts - r.retry_base >= p_max_attempts then
          perform ledger_adjust(r.sender_id, r.day, 0,
                                case when v_was_review then 0 else -1 end,
                                case when v_was_review then -1 else 0 end);
          update sends set status = 'dead', lease_expires_at = null, updated_at = p_now,
                           last_error = coalesce(r.input->>'error', case when v_permanent then 'permanent failure' else 'failed' end)
           where id = r.id;
          if v_permanent then
            insert into suppressions (value, kind, reason, created_at)
            values (lower(btrim(r.to_email)), 'email', 'bounce', p_now) on conflict do nothing;
            perform cancel_pending_sends(r.lead_id, 'bounce', p_now);
            update leads set status = 'bounced', status_reason = coalesce(r.input->>'error', 'permanent failure'),
                             updated_at = p_now
             where id = r.lead_id;
          else
            update leads set status = 'dead',
                             status_reason = format('gave up after %s attempts: %s', r.attempts - r.retry_base,
                                                    coalesce(r.input->>'error', 'failed')),
                             updated_at = p_now
             where id = r.lead_id and status in ('scheduled', 'sending', 'needs_review');
          end if;
          v_dead := v_dead + 1;
        else
          if v_was_review then perform ledger_adjust(r.sender_id, r.day, 0, 1, -1); end if;
          v_delay := p_backoff_seconds * power(2, greatest(r.attempts - r.retry_base, 1) - 1);
          -- a retry that falls after its sender-day is missed then (claim-due hands a
          -- send out only on its day) and the sweeper moves it to a day with room
          update sends set status = 'failed', lease_expires_at = null, updated_at = p_now,
                           last_error = coalesce(r.input->>'error', 'failed'),
                           send_at = p_now + make_interval(secs => v_delay)
           where id = r.id;
          update leads set status = 'scheduled', status_reason = null, updated_at = p_now
           where id = r.lead_id and status in ('sending', 'needs_review');
          v_retrying := v_retrying + 1;
        end if;
      elsif r.status in ('failed', 'dead') then
        v_dupes := v_dupes + 1;
      else
        v_ignored := v_ignored || jsonb_build_object('sendId', r.id::text, 'status', r.status,
          'reason', format('the send is %s, not sending: nothing recorded', r.status));
      end if;
    end if;
  end loop;

  return jsonb_build_object('recorded', v_recorded, 'retrying', v_retrying, 'deadLettered', v_dead,
                            'cancelled', v_cancelled, 'duplicates', v_dupes, 'ignored', v_ignored);
end;
$$;

create or replace function list_sends(
  p_status text default null,
  p_sender text default null,
  p_lead_id bigint default null,
  p_limit integer default 100
) returns jsonb language sql stable as $$
  select jsonb_build_object('sends', coalesce(jsonb_agg(send_json(t) order by t.updated_at desc, t.id desc), '[]'::jsonb))
  from (select * from sends s
         where (p_status is null or s.status = p_status)
           and (p_sender is null or s.sender_id = p_sender)
           and (p_lead_id is null or s.lead_id = p_lead_id)
         order by s.updated_at desc, s.id desc
         limit p_limit) t;
$$;

-- An explicit human decision: a dead or needs_review send goes back to the queue,
-- counted on the first sender-local day (from today) that has room. Its window
-- is marked as passed, so the sweeper places it in the recipient's next window.
-- Attempts keep counting (each lease has its own number); the retry budget
-- starts again from here (retry_base).
create or replace function retry_send(p_id bigint, p_now timestamptz default now()) returns jsonb
language plpgsql volatile as $$
declare
  s sends;
  v_tz text;
  v_day date;
  led sender_days;
  v_at timestamptz;
  v_stop text;
begin
  select * into s from sends where id = p_id;
  if not found then
    raise exception using errcode = 'CR404', message = 'send_not_found', detail = format('No send has id %s.', p_id);
  end if;
  if s.status not in ('dead', 'needs_review') then
    raise exception using errcode = 'CR409', message = 'send_not_retryable',
      detail = format('Send %s is %s; only dead or needs_review sends can be retried.', p_id, s.status);
  end if;
  select status into v_stop from leads
   where id = s.lead_id and status in ('replied', 'unsubscribed', 'complained');
  if found then
    raise exception using errcode = 'CR409', message = 'lead_' || v_stop,
      detail = format('Lead %s is %s: nothing more is sent to them.', s.lead_id, v_stop);
  end if;
  if is_suppressed(s.to_email) then
    raise exception using errcode = 'CR409', message = 'address_suppressed',
      detail = format('%s is suppressed; remove the suppression first if you are sure.', s.to_email);
  end if;
  select timezone into v_tz from senders where id = s.sender_id;
  v_day := (p_now at time zone v_tz)::date;
  if s.status = 'needs_review' then
    -- ascending lock order: the send's own day is never after today
    perform ledger_adjust(s.sender_id, s.day, 0, 0, -1);
  end if;
  loop
    led := ledger_lock(s.sender_id, v_day);
    exit when led.quota - led.claimed - led.scheduled - led.sent > 0;
    v_day := v_day + 1;
    if v_day > (p_now at time zone v_tz)::date + 366 then
      raise exception using errcode = 'CR409', message = 'no_quota_room',
        detail = 'No day in the next year has quota room for this send.';
    end if;
  end loop;
  update sender_days set scheduled = scheduled + 1 where sender_id = s.sender_id and day = v_day;
  v_at := greatest(p_now, v_day::timestamp at time zone v_tz);

  update sends set status = 'scheduled', day = v_day, send_at = v_at, window_end = v_at, retry_base = s.attempts,
                   lease_expires_at = null, last_error = format('retry requested (was %s)', s.status),
                   updated_at = p_now
   where id = p_id and status = s.status
  returning * into s;
  if not found then
    raise exception using errcode = 'CR409', message = 'send_changed',
      detail = format('Send %s changed while retrying; try again.', p_id);
  end if;
  update leads set status = 'scheduled', status_reason = null, updated_at = p_now
   where id = s.lead_id and status in ('dead', 'needs_review', 'bounced');
  return send_json(s);
end;
$$;

-- Moves a send whose window passed (still pending) into the first of the given
-- recipient windows whose sender-local day has quota room. Safe to call twice
-- and from several replicas: it re-checks the send under its lock.
create or replace function reschedule_send(p_send_id bigint, p_windows jsonb, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare
  s sends;
  v_tz text;
  w record;
  v_start timestamptz;
  v_day date;
  f sender_days;
begin
  select * into s from sends where id = p_send_id;
  select timezone into v_tz from senders where id = s.sender_id;
  if s.id is null or s.status not in ('scheduled', 'failed') or s.window_end is null
     or (s.window_end > p_now and ((s.day + 1)::timestamp at time zone v_tz) > p_now) then
    return jsonb_build_object('moved', false, 'reason', 'not_missed');
  end if;
  for w in select (x->>'start')::timestamptz as ws, (x->>'end')::timestamptz as we
             from jsonb_array_elements(p_windows) x order by 1 loop
    v_start := greatest(w.ws, p_now);
    continue when w.we <= v_start;
    v_day := (v_start at time zone v_tz)::date;
    if v_day <> s.day then
      if s.day < v_day then
        perform ledger_lock(s.sender_id, s.day);
        f := ledger_lock(s.sender_id, v_day);
      else
        f := ledger_lock(s.sender_id, v_day);
        perform ledger_lock(s.sender_id, s.day);
      end if;
      continue when f.quota - f.claimed - f.scheduled - f.sent <= 0;
    end if;
    -- re-check under the row lock: another replica may have moved it already
    perform 1 from sends where id = s.id and status = s.status and day = s.day and window_end = s.window_end for update;
    if not found then
      return jsonb_build_object('moved', false, 'reason', 'changed');
    end if;
    if v_day <> s.day then
      perform ledger_adjust(s.sender_id, s.day, 0, -1, 0);
      perform ledger_adjust(s.sender_id, v_day, 0, 1, 0);
    end if;
    update sends set send_at = v_start, window_end = w.we, day = v_day, updated_at = p_now
     where id = s.id returning * into s;
    return jsonb_build_object('moved', true, 'send', send_json(s));
  end loop;
  return jsonb_build_object('moved', false, 'reason', 'no_room');
end;
$$;

-- ---------------------------------------------------------------------------
-- Events and suppressions
-- ---------------------------------------------------------------------------

-- Suppresses an address or domain and cancels pending sends to it.
create or replace function suppress_value(p_value text, p_kind text, p_reason text, p_now timestamptz)
returns integer language plpgsql volatile as $$
declare r record; n integer := 0;
begin
  insert into suppressions (value, kind, reason, created_at)
  values (lower(btrim(p_value)), p_kind, p_reason, p_now) on conflict do nothing;
  perform ledger_lock_all((select jsonb_agg(jsonb_build_object('sender', s.sender_id, 'day', s.day))
                             from sends s
                            where s.status in ('scheduled', 'failed')
                              and lower(btrim(p_value)) = any(suppression_keys(s.to_email))));
  for r in select distinct lead_id from sends
            where status in ('scheduled', 'failed')
              and lower(btrim(p_value)) = any(suppression_keys(to_email)) loop
    n := n + cancel_pending_sends(r.lead_id, 'suppressed: ' || p_reason, p_now);
    -- the lead says why nothing will be sent (not 'scheduled' with a cancelled send)
    update leads set status = 'skipped', status_reason = 'suppressed: ' || p_reason, updated_at = p_now
     where id = r.lead_id and status in ('scheduled', 'sending', 'needs_review');
  end loop;
  return n;
end;
$$;

-- Records a reply, bounce, complaint or unsubscribe. Matched by the Message-ID we
-- sent (inReplyTo, then messageId), then by email. The same event twice returns
-- the first answer and changes nothing.
--
-- Events matched by our Message-ID (inReplyTo / messageId) rather than by
-- address: a bounce notice comes from the mail system (MAILER-DAEMON@…), an
-- opt-out may be forwarded by someone else. The address we sent to bounced or
-- opted out, so it is suppressed too (before, only the notice's sender was, and
-- a human retry could send to the bounced address again).
create or replace function record_event(p_event jsonb, p_lead_id bigint default null, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare
  v_kind text := p_event->>'kind';
  v_email text := nullif(lower(btrim(p_event->>'email')), '');
  v_msg text := norm_message_id(p_event->>'messageId');
  v_irt text := norm_message_id(p_event->>'inReplyTo');
  v_received timestamptz := coalesce((p_event->>'receivedAt')::timestamptz, p_now);
  v_key text;
  v_event_id bigint;
  v_lead leads;
  v_send_id bigint;
  v_status text;
  v_cancelled integer := 0;
  v_stop boolean;
  v_result jsonb;
begin
  v_key := coalesce(p_event->>'dedupeKey',
                    md5(concat_ws(chr(31), v_kind, v_msg, v_irt, v_email, p_event->>'receivedAt',
                                  p_event->>'subject', p_event->>'text', p_lead_id::text)));
  insert into events (kind, dedupe_key, email, message_id, in_reply_to, subject, text, received_at, created_at)
  values (v_kind, v_key, v_email, v_msg, v_irt, p_event->>'subject', p_event->>'text', v_received, p_now)
  on conflict (dedupe_key) do nothing
  returning id into v_event_id;
  if v_event_id is null then
    select result into v_result from events where dedupe_key = v_key;
    return coalesce(v_result, '{}'::jsonb) || jsonb_build_object('duplicate', true);
  end if;

  if p_lead_id is not null then
    select * into v_lead from leads where id = p_lead_id;
  else
    select s.id, s.lead_id into v_send_id, v_lead.id from sends s
     where s.message_id in (v_irt, v_msg)
     order by (s.message_id = v_irt) desc nulls last limit 1;
    if v_lead.id is not null then
      select * into v_lead from leads where id = v_lead.id;
    elsif v_email is not null then
      select * into v_lead from leads where lower(email) = v_email;
    end if;
  end if;

  v_status := case v_kind when 'reply' then 'replied' when 'bounce' then 'bounced'
                          when 'complaint' then 'complained' else 'unsubscribed' end;
  v_stop := v_kind = 'reply'
            and coalesce(p_event->>'text', '') ~* '^\s*(stop|unsubscribe|remove me|take me off)\y';
  v_email := coalesce(v_email, lower(btrim(v_lead.email)));

  if v_lead.id is not null then
    -- the global lock order: ledger rows of everything we may release, then the rows
    perform ledger_lock_all((
      select jsonb_agg(x) from (
        select jsonb_build_object('sender', s.sender_id, 'day', s.day) as x
          from sends s where s.lead_id = v_lead.id and s.status in ('scheduled', 'failed')
        union all
        select jsonb_build_object('sender', b.sender_id, 'day', b.day)
          from batches b where b.id = v_lead.batch_id) t));
    select * into v_lead from leads where id = v_lead.id for update;
    if v_lead.status in ('claimed', 'composed') then
      perform ledger_adjust(b.sender_id, b.day, -1, 0, 0) from batches b where b.id = v_lead.batch_id;
    end if;
    v_cancelled := cancel_pending_sends(v_lead.id, v_kind, p_now);
    update leads set status = v_status, status_reason = v_kind || coalesce(': ' || left(p_event->>'subject', 200), ''),
                     lease_expires_at = null, updated_at = p_now
     where id = v_lead.id;
  end if;

  -- an address that bounced, complained or opted out is suppressed even if no lead matched
  if v_email is not null and (v_kind in ('bounce', 'complaint', 'unsubscribe') or v_stop) then
    v_cancelled := v_cancelled + suppress_value(v_email, 'email',
                     case when v_stop then 'replied_stop' else v_kind end, p_now);
  end if;
  -- matched by our Message-ID, the event may come from another address (a bounce
  -- from MAILER-DAEMON, a forwarded opt-out): the address we sent to is suppressed too
  if nullif(lower(btrim(v_lead.email)), '') is distinct from v_email and v_lead.email is not null
     and (v_kind in ('bounce', 'complaint', 'unsubscribe') or v_stop) then
    v_cancelled := v_cancelled + suppress_value(v_lead.email, 'email',
                     case when v_stop then 'replied_stop' else v_kind end, p_now);
  end if;

  v_result := jsonb_build_object('eventId', v_event_id::text, 'leadId', v_lead.id::text,
                                 'status', case when v_lead.id is null then null else v_status end,
                                 'cancelledSends', v_cancelled,
                                 'suppressed', v_email is not null and (v_kind <> 'reply' or v_stop));
  update events set lead_id = v_lead.id, send_id = v_send_id, result = v_result,
                    sender_id = coalesce(
                      (select m.sender_id from sends m where m.id = v_send_id),
                      (select l.sender_id from sends l where l.lead_id = v_lead.id order by l.id desc limit 1),
                      (select b.sender_id from batches b where b.id = v_lead.batch_id))
   where id = v_event_id;
  return v_result || jsonb_build_object('duplicate', false);
end;
$$;

create or replace function suppression_json(s suppressions) returns jsonb
language sql stable as $$
  select jsonb_build_object('value', s.value, 'kind', s.kind, 'reason', s.reason, 'createdAt', s.created_at);
$$;

create or replace function list_suppressions(p_kind text default null, p_after text default null, p_limit integer default 100)
returns jsonb language sql stable as $$
  select jsonb_build_object('suppressions', coalesce(jsonb_agg(suppression_json(t) order by t.value), '[]'::jsonb))
  from (select * from suppressions s
         where (p_kind is null or s.kind = p_kind) and (p_after is null or s.value > p_after)
         order by s.value limit p_limit) t;
$$;

create or replace function add_suppression(p_value text, p_kind text, p_reason text, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare n integer; s suppressions;
begin
  n := suppress_value(p_value, p_kind, p_reason, p_now);
  select * into s from suppressions where value = lower(btrim(p_value));
  return suppression_json(s) || jsonb_build_object('cancelledSends', n);
end;
$$;

create or replace function delete_suppression(p_value text) returns jsonb
language plpgsql volatile as $$
declare s suppressions;
begin
  delete from suppressions where value = lower(btrim(p_value)) returning * into s;
  if not found then
    raise exception using errcode = 'CR404', message = 'suppression_not_found',
      detail = format('"%s" is not suppressed.', p_value);
  end if;
  return suppression_json(s);
end;
$$;

-- The one-click / confirmed unsubscribe of a lead (token already verified).
create or replace function unsubscribe_lead(p_lead_id bigint, p_now timestamptz default now()) returns jsonb
language plpgsql volatile as $$
declare l leads;
begin
  select * into l from leads where id = p_lead_id;
  if not found then
    raise exception using errcode = 'CR404', message = 'lead_not_found', detail = 'This unsubscribe link is not valid.';
  end if;
  return record_event(jsonb_build_object('kind', 'unsubscribe', 'email', l.email,
                                         'dedupeKey', 'unsubscribe-link:' || l.id),
                      p_lead_id, p_now);
end;
$$;

-- First writer wins; every replica then reads the same value.
create or replace function ensure_setting(p_name text, p_value text) returns jsonb
language plpgsql volatile as $$
declare v text;
begin
  insert into service_settings (name, value) values (p_name, p_value) on conflict (name) do nothing;
  select value into v from service_settings where name = p_name;
  return to_jsonb(v);
end;
$$;

-- Pending sends whose window passed, with what the service needs to find the
-- recipient's next windows (p_send_ids: only these).
create or replace function missed_sends(p_now timestamptz default now(), p_limit integer default 1000,
                                        p_send_ids jsonb default null)
returns jsonb language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'sendId', s.id::text, 'sender', s.sender_id, 'timezone', s.timezone,
           'country', l.country, 'state', l.state,
           'rule', jsonb_build_object('days', to_jsonb(se.window_days),
                                      'start', to_char(se.window_start, 'HH24:MI'),
                                      'end', to_char(se.window_end, 'HH24:MI'),
                                      'skipHolidays', se.skip_holidays),
           'from', greatest(s.send_at, p_now)) order by s.window_end), '[]'::jsonb)
    from (select x.* from sends x join senders xs on xs.id = x.sender_id
           where x.status in ('scheduled', 'failed')
             and (x.window_end <= p_now or ((x.day + 1)::timestamp at time zone xs.timezone) <= p_now)
             and (p_send_ids is null or x.id in (select (jsonb_array_elements_text(p_send_ids))::bigint))
           order by x.window_end limit p_limit) s
    join leads l on l.id = s.lead_id
    join senders se on se.id = s.sender_id;
$$;

-- The background sweep (safe with several replicas: one sweeps at a time):
-- releases expired claims, turns expired sending leases into needs_review (their
-- outcome is unknown: it counts as sent and never goes back to the queue),
-- cancels pending sends to suppressed addresses, starts a new claim-scan epoch,
-- and lists sends whose window passed for the service to place again.
create or replace function sweep(p_now timestamptz default now(), p_limit integer default 1000)
returns jsonb language plpgsql volatile as $$
declare
  d record;
  n integer;
  v_released integer := 0;
  v_review integer := 0;
  v_cancelled integer := 0;
  v_missed jsonb;
  v_due uuid[];
begin
  if not pg_try_advisory_xact_lock(7262026003) then
    return jsonb_build_object('skipped', true, 'releasedClaims', 0, 'needsReview', 0, 'cancelled', 0, 'missed', '[]'::jsonb);
  end if;

  -- claimed leads not composed in time, and composed leads nothing gated in time
  -- (the gate had no quota room, or the workflow stopped after compose), go back
  -- to new: nothing was sent, the stored draft is reused when they come round again.
  -- Found through their batches' leases; a batch is settled once nothing of it
  -- is left claimed or composed (a lead locked right now waits for the next run).
  for d in select distinct sender_id, day from batches
            where lease_settled_at is null and lease_expires_at <= p_now order by 1, 2 loop
    perform ledger_lock(d.sender_id, d.day);
    select array_agg(id) into v_due from batches
     where lease_settled_at is null and lease_expires_at <= p_now
       and sender_id = d.sender_id and day = d.day;
    with expired as (
      select l.id from batches b join leads l on l.id = any(b.lead_ids) and l.batch_id = b.id
       where b.id = any(v_due) and l.status in ('claimed', 'composed') and l.lease_expires_at <= p_now
       order by l.id limit p_limit for update of l skip locked
    ), back as (
      update leads l set status = 'new', batch_id = null, claimed_at = null, lease_expires_at = null, updated_at = p_now
        from expired where l.id = expired.id returning l.id
    ) select count(*) into n from back;
    update sender_days set claimed = claimed - n where sender_id = d.sender_id and day = d.day;
    update batches b set lease_settled_at = p_now
     where b.id = any(v_due)
       and not exists (select 1 from leads l where l.id = any(b.lead_ids) and l.batch_id = b.id
                                              and l.status in ('claimed', 'composed'));
    v_released := v_released + n;
  end loop;

  for d in select distinct sender_id, day from sends
            where status = 'sending' and lease_expires_at <= p_now order by 1, 2 loop
    perform ledger_lock(d.sender_id, d.day);
    with expired as (
      select id from sends
       where status = 'sending' and lease_expires_at <= p_now and sender_id = d.sender_id and day = d.day
       order by id limit p_limit for update skip locked
    ), review as (
      update sends s set status = 'needs_review', lease_expires_at = null, updated_at = p_now,
             last_error = 'the sending lease ran out before an outcome was reported: check the mailbox, then retry or leave it'
        from expired where s.id = expired.id returning s.lead_id
    ), lead_review as (
      update leads l set status = 'needs_review', status_reason = 'outcome of the send unknown (lease expired)', updated_at = p_now
        from review where l.id = review.lead_id and l.status = 'sending'
    ) select count(*) into n from review;
    -- outcome unknown counts as sent: it may well have gone out
    update sender_days set scheduled = scheduled - n, sent = sent + n where sender_id = d.sender_id and day = d.day;
    v_review := v_review + n;
  end loop;

  for d in select distinct sender_id, day from sends
            where status in ('scheduled', 'failed') and (is_suppressed(to_email) or lead_stopped(lead_id)) order by 1, 2 loop
    perform ledger_lock(d.sender_id, d.day);
    with gone as (
      select id from sends
       where status in ('scheduled', 'failed') and (is_suppressed(to_email) or lead_stopped(lead_id))
         and sender_id = d.sender_id and day = d.day
       order by id limit p_limit for update skip locked
    ), cancelled as (
      update sends s set status = 'cancelled', last_error = 'suppressed', lease_expires_at = null, updated_at = p_now
        from gone where s.id = gone.id returning s.lead_id
    ), lead_skipped as (
      update leads l set status = 'skipped', status_reason = 'suppressed', updated_at = p_now
        from cancelled where l.id = cancelled.lead_id and l.status in ('scheduled', 'sending', 'needs_review')
    ) select count(*) into n from cancelled;
    update sender_days set scheduled = scheduled - n where sender_id = d.sender_id and day = d.day;
    v_cancelled := v_cancelled + n;
  end loop;

  -- claims rescan from the start once (leads may have become new again)
  update lead_claim_scan set epoch = epoch + 1;

  v_missed := missed_sends(p_now, p_limit, null);

  return jsonb_build_object('skipped', false, 'releasedClaims', v_released, 'needsReview', v_review,
                            'cancelled', v_cancelled, 'missed', v_missed);
end;
$$;

