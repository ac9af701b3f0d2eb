-- Where a claim's scan starts. Claimed leads leave dead entries at the front of
-- the partial index of new leads until VACUUM; every claim stepping over all of
-- them again made claims slower with each lead claimed. Each sender-day now
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

create or replace function claim_batch(
  p_sender text,
  p_size integer default null,
  p_idempotency_key text default null,
  p_lease_seconds integer default 3600,
  p_now timestamptz default now()
) returns jsonb language plpgsql volatile as $$
declare
  s senders;
  v_day date;
  led sender_days;
  v_existing batches;
  v_batch_id uuid := gen_random_uuid();
  v_need integer;
  v_check boolean;
  v_lease timestamptz := p_now + make_interval(secs => p_lease_seconds);
  v_picked integer;
  v_got bigint[];
  v_ids bigint[] := '{}';
  v_json jsonb;
  v_leads jsonb := '[]'::jsonb;
  v_sk jsonb;
  v_skipped jsonb := '[]'::jsonb;
  v_epoch bigint;
  v_low bigint;
  v_first bigint;
begin
  perform set_config('synchronous_commit', 'off', true);
  select * into s from senders where id = p_sender;
  if not found then
    raise exception using errcode = 'CR404', message = 'sender_not_found',
      detail = format('No sender has id "%s". Create it with PUT /v1/senders/%s.', p_sender, p_sender);
  end if;
  if p_size is not null and p_size < 1 then
    raise exception using errcode = 'CR400', message = 'validation_failed', detail = 'size must be at least 1.';
  end if;
  v_day := (p_now at time zone s.timezone)::date;
  led := ledger_lock(p_sender, v_day);

  if p_idempotency_key is not null then
    select * into v_existing from batches where sender_id = p_sender and idempotency_key = p_idempotency_key;
    if found then
      return batch_json(v_existing, true, '[]'::jsonb);
    end if;
  end if;

  v_need := greatest(led.quota - led.claimed - led.scheduled - led.sent, 0);
  if p_size is not null then v_need := least(v_need, p_size); end if;
  v_check := exists (select 1 from suppressions);
  -- where this sender-day's scan may start (read before the scan, see lead_claim_scan)
  select epoch into v_epoch from lead_claim_scan;
  v_low := case when led.claim_epoch = v_epoch then led.claim_low else 0 end;

  while v_need > 0 loop
    with picked as materialized (
      select l.id,
             case when nullif(btrim(l.email), '') is null then 'no_email'
                  when v_check and is_suppressed(l.email) then 'suppressed' end as skip
        from leads l
       where l.status = 'new' and l.id >= v_low
       order by l.id
       limit v_need
         for update skip locked
    ), upd as (
      update leads l
         set status = case when picked.skip is null then 'claimed' else 'skipped' end,
             status_reason = picked.skip,
             batch_id = case when picked.skip is null then v_batch_id end,
             claimed_at = case when picked.skip is null then p_now end,
             lease_expires_at = case when picked.skip is null then v_lease end,
             updated_at = p_now
        from picked
       where l.id = picked.id
      returning l.*, picked.skip
    )
    select count(*), min(u.id),
           array_agg(u.id order by u.id) filter (where u.skip is null),
           -- lead_json's fields, from the columns themselves (a whole-row argument
           -- is deformed once per field: 20 times slower at 400 leads)
           jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
             'id', u.id::text, 'email', u.email, 'firstName', u.first_name, 'lastName', u.last_name,
             'title', u.title, 'companyName', u.company_name, 'companyDomain', u.company_domain,
             'website', u.website, 'industry', u.industry, 'country', u.country, 'state', u.state,
             'city', u.city, 'timezone', coalesce(u.resolved_timezone, u.timezone),
             'timezoneSource', u.timezone_source, 'linkedinUrl', u.linkedin_url,
             'externalId', u.external_id, 'apolloId', u.apollo_id, 'status', u.status,
             'statusReason', u.status_reason, 'createdAt', u.created_at)) order by u.id) filter (where u.skip is null),
           jsonb_agg(jsonb_build_object('leadId', u.id::text, 'reason', u.skip) order by u.id)
             filter (where u.skip is not null)
      into v_picked, v_first, v_got, v_json, v_sk
      from upd u;
    exit when v_picked = 0;
    v_low := greatest(v_low, v_first);
    v_ids := v_ids || coalesce(v_got, '{}');
    v_leads := v_leads || coalesce(v_json, '[]'::jsonb);
    v_skipped := v_skipped || coalesce(v_sk, '[]'::jsonb);
    v_need := v_need - coalesce(cardinality(v_got), 0);
  end loop;

  insert into batches (id, sender_id, day, idempotency_key, size_requested, lead_ids, created_at)
  values (v_batch_id, p_sender, v_day, p_idempotency_key, p_size, v_ids, p_now)
  on conflict (sender_id, idempotency_key) do nothing;
  if not found then
    -- a twin with this key committed on another sender-day meanwhile: undo ours
    raise exception using errcode = 'CR409', message = 'idempotency_key_in_use',
      detail = 'Another claim with this idempotencyKey finished just now; send the request again to get its batch.';
  end if;
  update sender_days set claimed = claimed + cardinality(v_ids), claim_low = v_low, claim_epoch = v_epoch
   where sender_id = p_sender and day = v_day;

  return jsonb_build_object(
    'batchId', v_batch_id,
    'sender', p_sender,
    'day', to_char(v_day, 'YYYY-MM-DD'),
    'quota', led.quota,
    'claimedToday', led.claimed + led.scheduled + led.sent + cardinality(v_ids),
    'remainingToday', greatest(led.quota - led.claimed - led.scheduled - led.sent - cardinality(v_ids), 0),
    'replayed', false,
    'skipped', v_skipped,
    'leads', v_leads);
end;
$$;

-- The sweeper also starts a new claim-scan epoch on every run.
create or replace function sweep(p_now timestamptz default now(), p_limit integer default 1000)
returns jsonb language plpgsql volatile as $$
declare
  d record;
  n integer;
  v_released integer := 0;
  v_review integer := 0;
  v_cancelled integer := 0;
  v_missed jsonb;
begin
  if not pg_try_advisory_xact_lock(7262026003) then
    return jsonb_build_object('skipped', true, 'releasedClaims', 0, 'needsReview', 0, 'cancelled', 0, 'missed', '[]'::jsonb);
  end if;

  for d in select distinct b.sender_id, b.day from leads l join batches b on b.id = l.batch_id
            where l.status = 'claimed' and l.lease_expires_at <= p_now order by 1, 2 loop
    perform ledger_lock(d.sender_id, d.day);
    with expired as (
      select l.id from leads l join batches b on b.id = l.batch_id
       where l.status = 'claimed' and l.lease_expires_at <= p_now and b.sender_id = d.sender_id and b.day = d.day
       order by l.id limit p_limit for update of l skip locked
    ), back as (
      update leads l set status = 'new', batch_id = null, claimed_at = null, lease_expires_at = null, updated_at = p_now
        from expired where l.id = expired.id returning l.id
    ) select count(*) into n from back;
    update sender_days set claimed = claimed - n where sender_id = d.sender_id and day = d.day;
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
            where status in ('scheduled', 'failed') and is_suppressed(to_email) order by 1, 2 loop
    perform ledger_lock(d.sender_id, d.day);
    with gone as (
      select id from sends
       where status in ('scheduled', 'failed') and is_suppressed(to_email) and sender_id = d.sender_id and day = d.day
       order by id limit p_limit for update skip locked
    ), cancelled as (
      update sends s set status = 'cancelled', last_error = 'suppressed', lease_expires_at = null, updated_at = p_now
        from gone where s.id = gone.id returning s.id
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
