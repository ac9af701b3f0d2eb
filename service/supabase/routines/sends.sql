-- Sends: handing out due sends, recording outcomes, retries and moves.

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
  if p_sender is not null then
    perform sender_or_raise(p_sender);
  end if;
  with picked as materialized (
    select s.id from sends s join senders se on se.id = s.sender_id join leads l on l.id = s.lead_id
     where s.status in ('scheduled', 'failed')
       and s.send_at <= p_now
       and (s.window_end is null or s.window_end > p_now)
       -- only on the sender-local day it counts on
       and p_now < ((s.day + 1)::timestamp at time zone se.timezone)
       and (p_sender is null or s.sender_id = p_sender)
       and not mailbox_paused(s.sender_id)
       and not lead_status_stopped(l.status)
       and not exists (select from send_blocked(s.to_email, l.company_domain))
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
    raise exception using errcode = 'CR000', message = 'send_not_found',
      detail = format('No send has id %s; nothing was recorded. Report only ids from the gate or claim-due.', v_unknown);
  end if;
  select string_agg(x->>'sendId', ', ') into v_conflict
    from jsonb_array_elements(p_results) x
    join sends s on s.message_id = norm_message_id(x->>'messageId') and s.id <> (x->>'sendId')::bigint
   where x->>'status' = 'sent';
  if v_conflict is not null then
    raise exception using errcode = 'CR000', message = 'message_id_conflict',
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
      select case when lead_status_stopped(l.status) then l.status
                  when exists (select from send_blocked(r.to_email, l.company_domain)) then 'suppressed' end
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
            -- a hard bounce at the SMTP dialogue counts against the mailbox (mailbox health)
            perform mailbox_health_check(r.sender_id, p_now);
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
  l leads;
begin
  select * into s from sends where id = p_id;
  if not found then
    raise exception using errcode = 'CR000', message = 'send_not_found', detail = format('No send has id %s.', p_id);
  end if;
  if s.status not in ('dead', 'needs_review') then
    raise exception using errcode = 'CR000', message = 'send_not_retryable',
      detail = format('Send %s is %s; only dead or needs_review sends can be retried.', p_id, s.status);
  end if;
  select * into l from leads where id = s.lead_id;
  -- a bounced lead may be retried: its address stays blocked (below) unless a
  -- person removed the suppression, which is the decision this retry stands for
  if lead_status_stopped(l.status) and l.status <> 'bounced' then
    raise exception using errcode = 'CR000', message = 'lead_' || l.status,
      detail = format('Lead %s is %s: nothing more is sent to them.', s.lead_id, l.status);
  end if;
  if exists (select from send_blocked(s.to_email, l.company_domain)) then
    raise exception using errcode = 'CR000', message = 'address_suppressed',
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
      raise exception using errcode = 'CR000', message = 'no_quota_room',
        detail = 'No day in the next year has quota room for this send.';
    end if;
  end loop;
  perform ledger_adjust(s.sender_id, v_day, 0, 1, 0);
  v_at := greatest(p_now, v_day::timestamp at time zone v_tz);

  update sends set status = 'scheduled', day = v_day, send_at = v_at, window_end = v_at, retry_base = s.attempts,
                   lease_expires_at = null, last_error = format('retry requested (was %s)', s.status),
                   updated_at = p_now
   where id = p_id and status = s.status
  returning * into s;
  if not found then
    raise exception using errcode = 'CR000', message = 'send_changed',
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

-- Claim-due sent twice with one key answers with the sends it leased, while
-- they are still leased (status sending); if it leased nothing that is still
-- out, it claims as a first call would.
create or replace function claim_due_sends_once(
  p_idempotency_key text,
  p_sender text default null,
  p_limit integer default 100,
  p_lease_seconds integer default 600,
  p_now timestamptz default now()
) returns jsonb language plpgsql volatile as $$
declare v jsonb;
begin
  perform pg_advisory_xact_lock(hashtextextended('claim_due:' || p_idempotency_key, 0));
  select jsonb_agg(send_json(s) order by s.send_at, s.id) into v
    from sends s
   where s.lease_key = p_idempotency_key and s.status = 'sending'
     and (p_sender is null or s.sender_id = p_sender);
  if v is not null then
    return jsonb_build_object('sends', v);
  end if;
  -- n8n's queue drain (never a sender whose mailbox Corofy drives)
  v := claim_due_for_n8n(p_sender, p_limit, p_lease_seconds, p_now);
  update sends set lease_key = p_idempotency_key
   where id in (select (x->>'sendId')::bigint from jsonb_array_elements(v->'sends') x);
  return v;
end;
$$;

-- An operator's decision that a dead or needs_review send is never to be sent:
-- it becomes cancelled and its lead skipped (with the reason). A needs_review send
-- counted as sent against its day's quota; cancelled counts nothing, so the day
-- gets that slot back. Same lock order as retry_send: the ledger, then the row.
create or replace function discard_send(p_id bigint, p_now timestamptz default now()) returns jsonb
language plpgsql volatile as $$
declare
  s sends;
begin
  select * into s from sends where id = p_id;
  if not found then
    raise exception using errcode = 'CR000', message = 'send_not_found', detail = format('No send has id %s.', p_id);
  end if;
  if s.status not in ('dead', 'needs_review') then
    raise exception using errcode = 'CR000', message = 'send_not_discardable',
      detail = format('Send %s is %s; only dead or needs_review sends can be discarded.', p_id, s.status);
  end if;
  if s.status = 'needs_review' then
    perform ledger_adjust(s.sender_id, s.day, 0, 0, -1);
  end if;
  update sends
     set status = 'cancelled', lease_expires_at = null, updated_at = p_now,
         last_error = concat_ws('; ', last_error, 'discarded by an operator')
   where id = p_id and status = s.status
  returning * into s;
  if not found then
    raise exception using errcode = 'CR000', message = 'send_not_discardable',
      detail = format('Send %s changed meanwhile; load it again.', p_id);
  end if;
  update leads set status = 'skipped', status_reason = 'send discarded by an operator', updated_at = p_now
   where id = s.lead_id and status in ('dead', 'needs_review');
  return send_json(s);
end;
$$;
