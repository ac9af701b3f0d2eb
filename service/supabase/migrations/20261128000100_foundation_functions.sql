-- Foundation SQL functions. The service calls only functions: one call per
-- request, the same over PGlite, node-postgres and supabase-js (rpc).
-- Every function returns one json or jsonb value shaped for the HTTP API
-- (camelCase, ids as text).
-- Business errors are raised with SQLSTATE 'CR' || <http status> and the stable
-- problem code as the message, e.g. errcode 'CR404', message 'sender_not_found'.

-- json, not jsonb: a claim answers with 400 of these, and text joined in field
-- order costs a third of building jsonb objects (which sort and copy their keys).
-- Absent fields are left out (concat_ws skips the nulls), as the API has them.
create or replace function lead_json(l leads) returns json
language sql stable as $$
  select ('{' || concat_ws(',',
    '"id":"' || l.id || '"',
    '"email":' || to_json(l.email),
    '"firstName":' || to_json(l.first_name),
    '"lastName":' || to_json(l.last_name),
    '"title":' || to_json(l.title),
    '"companyName":' || to_json(l.company_name),
    '"companyDomain":' || to_json(l.company_domain),
    '"website":' || to_json(l.website),
    '"industry":' || to_json(l.industry),
    '"country":' || to_json(l.country),
    '"state":' || to_json(l.state),
    '"city":' || to_json(l.city),
    '"timezone":' || to_json(coalesce(l.resolved_timezone, l.timezone)),
    '"timezoneSource":' || to_json(l.timezone_source),
    '"linkedinUrl":' || to_json(l.linkedin_url),
    '"externalId":' || to_json(l.external_id),
    '"apolloId":' || to_json(l.apollo_id),
    '"status":' || to_json(l.status),
    '"statusReason":' || to_json(l.status_reason),
    '"createdAt":' || to_json(l.created_at)) || '}')::json;
$$;

-- Inserts leads in input order (they take the next sequence numbers).
-- Duplicates (same email case-insensitively, same externalId or apolloId) are
-- skipped, never updated. Input is already validated and normalised by the service.
-- Returns only ids: building 5000 lead documents nobody reads halves throughput.
create or replace function import_leads(p_leads jsonb, p_search_id uuid default null)
returns jsonb language plpgsql volatile as $$
declare
  v_ids jsonb;
  v_total integer := jsonb_array_length(p_leads);
begin
  with input as (
    select e.value as l, e.ordinality as n
    from jsonb_array_elements(p_leads) with ordinality as e
  ), inserted as (
    insert into leads (email, first_name, last_name, title, company_name, company_domain,
                       website, industry, country, state, city, timezone, linkedin_url,
                       external_id, apollo_id, search_id)
    select l->>'email', l->>'firstName', l->>'lastName', l->>'title', l->>'companyName',
           l->>'companyDomain', l->>'website', l->>'industry', l->>'country', l->>'state',
           l->>'city', l->>'timezone', l->>'linkedinUrl', l->>'externalId', l->>'apolloId',
           p_search_id
    from input
    order by n
    on conflict do nothing
    returning id
  )
  select coalesce(jsonb_agg(id::text order by id), '[]'::jsonb) into v_ids from inserted;

  return jsonb_build_object(
    'imported', jsonb_array_length(v_ids),
    'duplicates', v_total - jsonb_array_length(v_ids),
    'leadIds', v_ids);
end;
$$;

create or replace function get_lead(p_id bigint) returns json
language plpgsql stable as $$
declare v json;
begin
  select lead_json(l) into v from leads l where l.id = p_id;
  if v is null then
    raise exception using errcode = 'CR404', message = 'lead_not_found',
      detail = format('No lead has id %s.', p_id);
  end if;
  return v;
end;
$$;

create or replace function sender_json(s senders) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', s.id,
    'dailyQuota', s.daily_quota,
    'timezone', s.timezone,
    'window', jsonb_build_object(
      'days', to_jsonb(s.window_days),
      'start', to_char(s.window_start, 'HH24:MI'),
      'end', to_char(s.window_end, 'HH24:MI')),
    'skipHolidays', s.skip_holidays,
    'fromName', s.from_name,
    'fromEmail', s.from_email,
    'postalAddress', s.postal_address,
    'minGapSeconds', s.min_gap_seconds,
    'jitterSeconds', s.jitter_seconds,
    'createdAt', s.created_at,
    'updatedAt', s.updated_at);
$$;

create or replace function list_senders() returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(sender_json(s) order by s.id), '[]'::jsonb) from senders s;
$$;

create or replace function get_sender(p_id text) returns jsonb
language plpgsql stable as $$
declare v jsonb;
begin
  select sender_json(s) into v from senders s where s.id = p_id;
  if v is null then
    raise exception using errcode = 'CR404', message = 'sender_not_found',
      detail = format('No sender has id "%s". Create it with PUT /v1/senders/%s.', p_id, p_id);
  end if;
  return v;
end;
$$;

-- Creates or updates a sender. Fields absent from p_sender keep their value.
-- A changed daily quota applies to today and later ledger days.
create or replace function upsert_sender(p_id text, p_sender jsonb) returns jsonb
language plpgsql volatile as $$
declare s senders;
begin
  insert into senders (id) values (p_id) on conflict (id) do nothing;
  update senders set
    daily_quota     = coalesce((p_sender->>'dailyQuota')::integer, daily_quota),
    timezone        = coalesce(p_sender->>'timezone', timezone),
    window_days     = coalesce((select array_agg(d) from jsonb_array_elements_text(p_sender->'window'->'days') d), window_days),
    window_start    = coalesce((p_sender->'window'->>'start')::time, window_start),
    window_end      = coalesce((p_sender->'window'->>'end')::time, window_end),
    skip_holidays   = coalesce((p_sender->>'skipHolidays')::boolean, skip_holidays),
    from_name       = case when p_sender ? 'fromName' then p_sender->>'fromName' else from_name end,
    from_email      = case when p_sender ? 'fromEmail' then p_sender->>'fromEmail' else from_email end,
    postal_address  = case when p_sender ? 'postalAddress' then p_sender->>'postalAddress' else postal_address end,
    min_gap_seconds = coalesce((p_sender->>'minGapSeconds')::integer, min_gap_seconds),
    jitter_seconds  = coalesce((p_sender->>'jitterSeconds')::integer, jitter_seconds),
    updated_at      = now()
  where id = p_id
  returning * into s;

  -- a lower quota takes effect at once: a day that already used more keeps what it
  -- used as its quota (the ledger's check) and has no room left
  update sender_days set quota = greatest(s.daily_quota, claimed + scheduled + sent)
  where sender_id = p_id and day >= (now() at time zone s.timezone)::date;

  return sender_json(s);
end;
$$;

-- ---------------------------------------------------------------------------
-- Stats: the ledger and the sends of one sender-local day
-- ---------------------------------------------------------------------------
create or replace function get_stats(p_sender text, p_day date default null) returns jsonb
language plpgsql stable as $$
declare
  s senders;
  v_day date;
  v_from timestamptz;
  v_to timestamptz;
  led sender_days;
  r jsonb;
begin
  select * into s from senders where id = p_sender;
  if not found then
    raise exception using errcode = 'CR404', message = 'sender_not_found',
      detail = format('No sender has id "%s".', p_sender);
  end if;
  v_day := coalesce(p_day, (now() at time zone s.timezone)::date);
  v_from := v_day::timestamp at time zone s.timezone;
  v_to := (v_day + 1)::timestamp at time zone s.timezone;
  select * into led from sender_days where sender_id = s.id and day = v_day;

  with sc as (
    select count(*) filter (where status = 'scheduled') as scheduled,
           count(*) filter (where status = 'sending') as sending,
           count(*) filter (where status = 'sent') as sent,
           count(*) filter (where status = 'failed') as failed,
           count(*) filter (where status = 'dead') as dead,
           count(*) filter (where status = 'needs_review') as needs_review,
           count(*) filter (where status = 'cancelled') as cancelled
      from sends where sender_id = s.id and day = v_day
  ), ev as (
    -- an event counts for the sender whose email it answers (events.sender_id,
    -- set when it was recorded; an event about no lead of ours counts for none)
    select count(*) filter (where e.kind = 'reply') as replied,
           count(*) filter (where e.kind = 'bounce') as bounced,
           count(*) filter (where e.kind = 'unsubscribe') as unsubscribed,
           count(*) filter (where e.kind = 'complaint') as complained
      from events e
     where e.sender_id = s.id and e.received_at >= v_from and e.received_at < v_to
  )
  select jsonb_build_object(
    'sender', s.id,
    'day', to_char(v_day, 'YYYY-MM-DD'),
    'quota', coalesce(led.quota, s.daily_quota),
    'claimed', coalesce(led.claimed, 0),
    'scheduled', sc.scheduled,
    'sending', sc.sending,
    'sent', sc.sent,
    'failed', sc.failed,
    'dead', sc.dead,
    'needsReview', sc.needs_review,
    'cancelled', sc.cancelled,
    'replied', ev.replied,
    'bounced', ev.bounced,
    'unsubscribed', ev.unsubscribed,
    'complained', ev.complained,
    'used', coalesce(led.claimed + led.scheduled + led.sent, 0),
    'remaining', greatest(coalesce(led.quota - led.claimed - led.scheduled - led.sent, s.daily_quota), 0),
    'batchedLeads', coalesce((select sum(cardinality(lead_ids)) from batches where sender_id = s.id and day = v_day), 0),
    'apolloCreditsUsed', coalesce((select sum(credits_used) from apollo_searches
                                   where created_at >= v_from and created_at < v_to), 0))
  into r from sc, ev;
  return r;
end;
$$;
