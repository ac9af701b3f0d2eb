-- Senders.

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
    'stopOnAutoReply', s.stop_on_auto_reply,
    'fromName', s.from_name,
    'fromEmail', s.from_email,
    'postalAddress', s.postal_address,
    'privacyNoticeUrl', s.privacy_notice_url,
    'blockedCountries', to_jsonb(s.blocked_countries),
    'minGapSeconds', s.min_gap_seconds,
    'jitterSeconds', s.jitter_seconds,
    'rampUp', case when s.ramp_start is null then null else jsonb_build_object(
      'start', s.ramp_start, 'step', s.ramp_step, 'cap', s.ramp_cap,
      'startedOn', to_char(s.ramp_from, 'YYYY-MM-DD')) end,
    'limitToday', sender_effective_limit(s, (now() at time zone s.timezone)::date),
    'createdAt', s.created_at,
    'updatedAt', s.updated_at);
$$;

create or replace function list_senders() returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(sender_json(s) order by s.id), '[]'::jsonb) from senders s;
$$;

-- THE lookup of a sender by id for every function that needs one: the row, or
-- the domain error sender_not_found.
create or replace function sender_or_raise(p_sender text) returns senders
language plpgsql stable as $$
declare s senders;
begin
  select * into s from senders where id = p_sender;
  if not found then
    raise exception using errcode = 'CR000', message = 'sender_not_found',
      detail = format('No sender has id "%s".', p_sender);
  end if;
  return s;
end;
$$;

-- A sender that may compose: every cold email carries the sender's name and
-- postal address (CAN-SPAM; most EU laws ask the same of a business), so
-- without them nothing is written. The sender row, or sender_incomplete
-- naming the missing fields.
create or replace function sender_lawful_or_raise(p_sender text) returns senders
language plpgsql stable as $$
declare
  s senders := sender_or_raise(p_sender);
  v_missing text[] := array_remove(array[
    case when s.from_name is null then 'fromName' end,
    case when s.postal_address is null then 'postalAddress' end], null);
begin
  if cardinality(v_missing) > 0 then
    raise exception using errcode = 'CR000', message = 'sender_incomplete',
      detail = format('Sender "%s" has no %s: every cold email must carry the sender''s name and postal address.',
                      s.id, array_to_string(v_missing, ' and no '));
  end if;
  return s;
end;
$$;

create or replace function get_sender(p_id text) returns jsonb
language sql stable as $$
  select sender_json(sender_or_raise(p_id));
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
    stop_on_auto_reply = coalesce((p_sender->>'stopOnAutoReply')::boolean, stop_on_auto_reply),
    from_name       = case when p_sender ? 'fromName' then p_sender->>'fromName' else from_name end,
    from_email      = case when p_sender ? 'fromEmail' then p_sender->>'fromEmail' else from_email end,
    postal_address  = case when p_sender ? 'postalAddress' then p_sender->>'postalAddress' else postal_address end,
    privacy_notice_url = case when p_sender ? 'privacyNoticeUrl' then p_sender->>'privacyNoticeUrl' else privacy_notice_url end,
    blocked_countries = coalesce((select array_agg(c order by c) from jsonb_array_elements_text(p_sender->'blockedCountries') c),
                                 case when p_sender ? 'blockedCountries' then '{}'::text[] else blocked_countries end),
    min_gap_seconds = coalesce((p_sender->>'minGapSeconds')::integer, min_gap_seconds),
    jitter_seconds  = coalesce((p_sender->>'jitterSeconds')::integer, jitter_seconds),
    updated_at      = now()
  where id = p_id
  returning * into s;

  -- rampUp: null turns ramp-up off; an object turns it on (the defaults 10, +5 a
  -- day, cap 40 for what it leaves out) or changes it. The ramp counts from
  -- startedOn, else from when it was turned on (today, sender-local): changing
  -- the step or the cap of a running ramp does not start it over.
  if p_sender ? 'rampUp' then
    if jsonb_typeof(p_sender->'rampUp') = 'object' then
      update senders set
        ramp_start = coalesce((p_sender->'rampUp'->>'start')::integer, ramp_start, 10),
        ramp_step  = coalesce((p_sender->'rampUp'->>'step')::integer, ramp_step, 5),
        ramp_cap   = coalesce((p_sender->'rampUp'->>'cap')::integer, ramp_cap, 40),
        ramp_from  = coalesce((p_sender->'rampUp'->>'startedOn')::date, ramp_from, (now() at time zone timezone)::date)
      where id = p_id
      returning * into s;
    else
      update senders set ramp_start = null, ramp_step = null, ramp_cap = null, ramp_from = null
      where id = p_id
      returning * into s;
    end if;
  end if;

  perform ledger_apply_limits(p_id, (now() at time zone s.timezone)::date);

  return sender_json(s);
end;
$$;
