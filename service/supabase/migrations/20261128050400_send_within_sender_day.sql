-- A send is handed out only on the sender-local day it counts on. A recipient
-- window can run past the sender's midnight (Auckland's 09:00-17:00 is
-- 20:00-04:00 UTC): a send counted on Monday that was not handed out by the
-- sender's midnight (n8n polled late, the service was down, a retry's backoff)
-- was handed out on Tuesday on top of Tuesday's full quota. Now claim-due
-- leaves it, it counts as missed, and the sweeper moves it (with its quota) to
-- the first window on a day with room. windowEnd keeps meaning the recipient's
-- window end (the retry cap of 20261128050000 is replaced by this rule).

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
