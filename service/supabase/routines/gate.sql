-- The timezone gate: composed leads become sends, handed out now (leased) when
-- the recipient's window is open and the sender-day has quota room, else
-- scheduled at the first window that has room. The service computes each
-- recipient's windows (IANA zones, DST, holidays) and passes them in; these
-- functions do everything that must be atomic.
--
-- Lock order (shared with batches and sends): ledger rows first, ascending
-- (sender, day); then lead rows, taken with SKIP LOCKED (a lead another request
-- holds is reported busy, never waited for).

-- "2026-03-09T10:30:00-04:00": the wall time of an instant in a zone, with its offset.
create or replace function local_time_iso(p_at timestamptz, p_zone text) returns text
language sql stable as $$
  select to_char(p_at at time zone p_zone, 'YYYY-MM-DD"T"HH24:MI:SS')
      || case when off < 0 then '-' else '+' end
      || lpad((abs(off) / 3600)::text, 2, '0') || ':' || lpad((abs(off) % 3600 / 60)::text, 2, '0')
    from (select extract(epoch from (p_at at time zone p_zone) - (p_at at time zone 'UTC'))::integer as off) o;
$$;

create or replace function gate_send_json(s sends) returns jsonb
language sql stable as $$
  select send_json(s) || jsonb_build_object('localTime', local_time_iso(s.send_at, s.timezone));
$$;

-- What the service needs to compute windows: the sender's rule and each lead's location.
create or replace function gate_prepare(p_sender text, p_lead_ids jsonb) returns jsonb
language plpgsql stable as $$
declare
  s senders;
  v jsonb;
begin
  s := sender_or_raise(p_sender);
  select coalesce(jsonb_agg(jsonb_build_object(
           'leadId', l.id::text, 'status', l.status, 'timezone', l.timezone,
           'country', l.country, 'state', l.state, 'city', l.city) order by l.id), '[]'::jsonb)
    into v
    from leads l
   where l.id in (select (jsonb_array_elements_text(p_lead_ids))::bigint);
  return jsonb_build_object('sender', sender_json(s), 'leads', v);
end;
$$;

-- p_leads: [{ leadId, timezone, timezoneSource, windows: [{ start, end }…] }], the
-- windows ascending. Each lead, in sequence order:
--   already has a send of step p_step → alreadyGated, unchanged (never handed out twice)
--   missing / busy / not claimed / not composed / no draft → skipped with a code, unchanged
--   blocked (send_blocked) or no email → lead skipped (status_reason), its claim released
--   else the first instant ≥ p_now inside a window whose sender-local day has
--   quota room (and, with pacing, at least the sender's gap away from its other
--   sends) → a send: 'sending' (leased) when that instant is now, else 'scheduled'.
--   No window with room → skipped 'no_quota_room', the lead stays composed.
-- Ledger: the lead's claimed day D gives back one claim, the send's day E takes
-- one scheduled (E needs room unless E = D).
create or replace function gate_leads(
  p_sender text,
  p_leads jsonb,
  p_now timestamptz default now(),
  p_lease_seconds integer default 600,
  -- null: each lead's own sequence step (leads.step)
  p_step integer default null
) returns jsonb language plpgsql volatile as $$
declare
  v_sender senders;
  r record;
  w record;
  v_lead leads;
  v_draft drafts;
  v_send sends;
  v_days jsonb;
  v_claim_sender text;
  v_claim_day date;
  v_gap interval;
  v_conflict timestamptz;
  v_at timestamptz;
  v_end timestamptz;
  v_day date;
  v_room integer;
  v_chosen boolean;
  v_busy boolean;
  v_now_ids bigint[] := '{}';
  v_scheduled_ids bigint[] := '{}';
  v_already_ids bigint[] := '{}';
  v_skipped jsonb := '[]'::jsonb;
  v_step integer;
  v_due timestamptz;
  v_from timestamptz;
begin
  v_sender := sender_or_raise(p_sender);

  -- Every ledger row this call may touch, locked up front in the global order:
  -- the claimed days of the gateable leads and each sender-local day their windows cross.
  with input as (
    select (e->>'leadId')::bigint as lead_id, e->'windows' as windows
      from jsonb_array_elements(p_leads) e
  ), gateable as (
    select i.*, ld.batch_id from input i join leads ld on ld.id = i.lead_id
     where ld.status = 'composed' and not exists (select 1 from sends sn where sn.lead_id = ld.id and sn.step = coalesce(p_step, ld.step))
  ), days as (
    select b.sender_id, b.day from gateable g join batches b on b.id = g.batch_id
    union
    select p_sender, gs::date
      from gateable g,
           jsonb_array_elements(g.windows) wj,
           generate_series((greatest((wj->>'start')::timestamptz, p_now) at time zone v_sender.timezone)::date::timestamp,
                           (((wj->>'end')::timestamptz - interval '1 millisecond') at time zone v_sender.timezone)::date::timestamp,
                           interval '1 day') gs
     where (wj->>'end')::timestamptz > p_now
  )
  select jsonb_agg(jsonb_build_object('sender', sender_id, 'day', day)) into v_days from days;
  perform ledger_lock_all(v_days);
  -- A paused mailbox hands out nothing (a pause committed once this call has
  -- read it is the next call's: this answer was decided before it).
  if mailbox_paused(p_sender) then
    return jsonb_build_object('sendNow', '[]'::jsonb, 'scheduled', '[]'::jsonb, 'alreadyGated', '[]'::jsonb,
      'skipped', (select coalesce(jsonb_agg(jsonb_build_object('leadId', e->>'leadId', 'code', 'mailbox_paused',
                    'detail', format('The mailbox of sender "%s" is paused; nothing is sent from it until a person resumes it.', p_sender))), '[]'::jsonb)
                    from jsonb_array_elements(p_leads) e));
  end if;

  for r in
    select distinct on ((e->>'leadId')::bigint)
           (e->>'leadId')::bigint as lead_id, e->>'timezone' as tz, e->>'timezoneSource' as tz_source,
           coalesce(e->'windows', '[]'::jsonb) as windows
      from jsonb_array_elements(p_leads) e
     order by (e->>'leadId')::bigint
  loop
    select * into v_lead from leads where id = r.lead_id for update skip locked;
    if not found then
      v_skipped := v_skipped || case when exists (select 1 from leads where id = r.lead_id)
        then jsonb_build_object('leadId', r.lead_id::text, 'code', 'lead_busy',
               'detail', format('Lead %s is being changed by another request; gate it again.', r.lead_id))
        else jsonb_build_object('leadId', r.lead_id::text, 'code', 'lead_not_found',
               'detail', format('No lead has id %s.', r.lead_id)) end;
      continue;
    end if;

    v_step := coalesce(p_step, v_lead.step);
    select * into v_send from sends where lead_id = v_lead.id and step = v_step;
    if found then
      v_already_ids := v_already_ids || v_send.id;
      continue;
    end if;
    if v_lead.status <> 'composed' then
      v_skipped := v_skipped || case v_lead.status
        when 'new' then jsonb_build_object('leadId', v_lead.id::text, 'code', 'not_claimed',
          'detail', format('Lead %s was never claimed: claim it in a daily batch and compose it, then gate it.', v_lead.id))
        when 'claimed' then jsonb_build_object('leadId', v_lead.id::text, 'code', 'not_composed',
          'detail', format('Lead %s is claimed but not composed: compose it first.', v_lead.id))
        else jsonb_build_object('leadId', v_lead.id::text, 'code', 'not_composed',
          'detail', format('Lead %s is %s; only composed leads can be gated.', v_lead.id, v_lead.status)) end;
      continue;
    end if;
    select * into v_draft from drafts where lead_id = v_lead.id and step = v_step;
    if not found then
      v_skipped := v_skipped || jsonb_build_object('leadId', v_lead.id::text, 'code', 'no_draft',
        'detail', format('Lead %s has no draft; compose it first.', v_lead.id));
      continue;
    end if;

    -- The day this lead's claim counts against (released when it becomes a send).
    v_claim_sender := null;
    v_claim_day := null;
    select b.sender_id, b.day into v_claim_sender, v_claim_day
      from batches b join sender_days sd on sd.sender_id = b.sender_id and sd.day = b.day
     where b.id = v_lead.batch_id and sd.claimed > 0;
    -- Locked up front unless the lead changed after that (claimed again, composed
    -- meanwhile). The gate holds this lead's row now, so it never waits for a
    -- ledger row here: if another request holds it, the lead is busy.
    if v_claim_day is not null and (ledger_try_lock(v_claim_sender, v_claim_day)).sender_id is null then
      v_skipped := v_skipped || jsonb_build_object('leadId', v_lead.id::text, 'code', 'lead_busy',
        'detail', format('Lead %s is being changed by another request; gate it again.', v_lead.id));
      continue;
    end if;

    if v_lead.email is null or exists (select from send_blocked(v_lead.email, v_lead.company_domain)) then
      update leads set status = 'skipped',
                       status_reason = case when v_lead.email is null then 'no_email' else 'suppressed' end,
                       updated_at = p_now
       where id = v_lead.id;
      if v_claim_day is not null then
        perform ledger_adjust(v_claim_sender, v_claim_day, -1, 0, 0);
      end if;
      v_skipped := v_skipped || jsonb_build_object('leadId', v_lead.id::text,
        'code', case when v_lead.email is null then 'no_email' else 'suppressed' end,
        'detail', case when v_lead.email is null then format('Lead %s has no email address.', v_lead.id)
                       else format('%s (its address, its domain or its company) is suppressed; nothing will be sent to it.', v_lead.email) end);
      continue;
    end if;

    -- A follow-up goes out only after the step before it was sent and its delay
    -- (business days) passed: never before the start of the day it is due.
    v_due := null;
    if v_step > 1 then
      v_due := followup_due_at(v_lead.id, v_step);
      if v_due is null then
        v_skipped := v_skipped || jsonb_build_object('leadId', v_lead.id::text, 'code', 'previous_step_not_sent',
          'detail', format('Step %s of lead %s waits for step %s to be sent (or the sequence has no step %s).',
                           v_step, v_lead.id, v_step - 1, v_step));
        continue;
      end if;
    end if;
    v_from := greatest(p_now, coalesce(v_due, p_now));

    -- Pacing: this lead keeps at least the sender's gap (plus random jitter) from the sender's other sends.
    v_gap := make_interval(secs => v_sender.min_gap_seconds + floor(random() * (v_sender.jitter_seconds + 1)));
    v_chosen := false;
    v_busy := false;
    for w in
      select (e->>'start')::timestamptz as ws, (e->>'end')::timestamptz as we
        from jsonb_array_elements(r.windows) e order by 1
    loop
      continue when w.we <= v_from;
      v_at := greatest(w.ws, v_from);
      while v_at < w.we loop
        if v_gap > interval '0' then
          select max(send_at) into v_conflict from sends
           where sender_id = p_sender and status <> 'cancelled'
             and send_at > v_at - v_gap and send_at < v_at + v_gap;
          if v_conflict is not null then
            v_at := v_conflict + v_gap;
            continue;
          end if;
        end if;
        v_day := (v_at at time zone v_sender.timezone)::date;
        -- Locked up front for every lead gateable when the call began (then this
        -- returns the row we hold); a lead that changed since may need a day
        -- nobody locked: take it only if no one holds it, never wait for a ledger
        -- row while holding leads.
        select quota - claimed - scheduled - sent into v_room from ledger_try_lock(p_sender, v_day);
        if v_room is null then
          v_busy := true;
          exit;
        end if;
        if v_claim_sender = p_sender and v_claim_day = v_day then
          v_room := v_room + 1;
        end if;
        if v_room > 0 then
          v_chosen := true;
          v_end := w.we;
          exit;
        end if;
        -- this sender-day is full: the rest of the window may fall on the next sender-local day
        v_at := greatest(v_at, (v_day + 1)::timestamp at time zone v_sender.timezone);
      end loop;
      exit when v_chosen or v_busy;
    end loop;

    if v_busy then
      v_skipped := v_skipped || jsonb_build_object('leadId', v_lead.id::text, 'code', 'lead_busy',
        'detail', format('Lead %s is being changed by another request; gate it again.', v_lead.id));
      continue;
    end if;
    if not v_chosen then
      v_skipped := v_skipped || jsonb_build_object('leadId', v_lead.id::text, 'code', 'no_quota_room',
        'detail', format('None of the next %s sending windows of lead %s has quota room; it stays composed, gate it later.',
                         jsonb_array_length(r.windows), v_lead.id));
      continue;
    end if;

    -- both rows exist and are locked (up front, or by ledger_try_lock above)
    if v_claim_day is not null then
      perform ledger_adjust(v_claim_sender, v_claim_day, -1, 0, 0);
    end if;
    perform ledger_adjust(p_sender, v_day, 0, 1, 0);

    insert into sends (lead_id, step, sender_id, day, status, to_email, subject, text, html,
                       timezone, timezone_source, send_at, window_end, lease_expires_at, attempts,
                       created_at, updated_at)
    values (v_lead.id, v_step, p_sender, v_day, case when v_at <= p_now then 'sending' else 'scheduled' end,
            v_lead.email, v_draft.subject, v_draft.text, v_draft.html, r.tz, r.tz_source, v_at, v_end,
            case when v_at <= p_now then p_now + make_interval(secs => p_lease_seconds) end,
            case when v_at <= p_now then 1 else 0 end, p_now, p_now)
    returning * into v_send;

    update leads set status = v_send.status, status_reason = null, resolved_timezone = r.tz,
                     timezone_source = r.tz_source, updated_at = p_now
     where id = v_lead.id;

    if v_send.status = 'sending' then
      v_now_ids := v_now_ids || v_send.id;
    else
      v_scheduled_ids := v_scheduled_ids || v_send.id;
    end if;
  end loop;

  -- built once at the end (appending to a jsonb array per lead copies it every time)
  return jsonb_build_object(
    'sendNow', (select coalesce(jsonb_agg(gate_send_json(x) order by x.lead_id), '[]'::jsonb) from sends x where x.id = any(v_now_ids)),
    'scheduled', (select coalesce(jsonb_agg(gate_send_json(x) order by x.lead_id), '[]'::jsonb) from sends x where x.id = any(v_scheduled_ids)),
    'alreadyGated', (select coalesce(jsonb_agg(gate_send_json(x) order by x.lead_id), '[]'::jsonb) from sends x where x.id = any(v_already_ids)),
    'skipped', v_skipped);
end;
$$;

-- A gate call sent twice (its answer was lost to a dropped connection or a
-- database restart, and the node sends it again) must answer the same: the
-- emails it leased for sending now come back as "send now" to the caller that
-- holds its key, not as "already gated" (they would never be sent, and sit in
-- `sending` until a person reviews them). A call with another key still gets
-- them as "already gated", so two executions never both send one email.

-- gate_leads, with the sends it makes marked by p_idempotency_key; the leads this
-- key gated before are answered as they were while their send is unchanged
-- (still leased: send now; still scheduled: scheduled), else as already gated.
create or replace function gate_leads_once(
  p_sender text,
  p_leads jsonb,
  p_idempotency_key text,
  p_now timestamptz default now(),
  p_lease_seconds integer default 600
) returns jsonb language plpgsql volatile as $$
declare
  v_result jsonb := gate_leads(p_sender, p_leads, p_now, p_lease_seconds);
  v_mine bigint[];
begin
  update sends set lease_key = p_idempotency_key
   where id in (select (x->>'sendId')::bigint
                  from jsonb_array_elements((v_result->'sendNow') || (v_result->'scheduled')) x);

  select coalesce(array_agg(s.id), '{}') into v_mine
    from jsonb_array_elements(v_result->'alreadyGated') x
    join sends s on s.id = (x->>'sendId')::bigint
   where s.lease_key = p_idempotency_key and s.sender_id = p_sender and s.status in ('sending', 'scheduled');
  if cardinality(v_mine) = 0 then
    return v_result;
  end if;

  return v_result || jsonb_build_object(
    'sendNow', (v_result->'sendNow') || (select coalesce(jsonb_agg(x order by (x->>'leadId')::bigint), '[]'::jsonb)
                 from jsonb_array_elements(v_result->'alreadyGated') x
                 where (x->>'sendId')::bigint = any(v_mine) and x->>'status' = 'sending'),
    'scheduled', (v_result->'scheduled') || (select coalesce(jsonb_agg(x order by (x->>'leadId')::bigint), '[]'::jsonb)
                 from jsonb_array_elements(v_result->'alreadyGated') x
                 where (x->>'sendId')::bigint = any(v_mine) and x->>'status' = 'scheduled'),
    'alreadyGated', (select coalesce(jsonb_agg(x order by (x->>'leadId')::bigint), '[]'::jsonb)
                 from jsonb_array_elements(v_result->'alreadyGated') x
                 where not ((x->>'sendId')::bigint = any(v_mine))));
end;
$$;
