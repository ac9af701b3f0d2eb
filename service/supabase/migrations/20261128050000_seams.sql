-- Where the capabilities meet (review of the seams between batches, compose,
-- the gate, sends, events and the sweeper). Each change has a test in
-- service/test/seams/.
--
-- * A lower dailyQuota takes effect on today's ledger row at once.
-- * A failed attempt of a lead that replied / bounced / unsubscribed /
--   complained or whose address is suppressed meanwhile is cancelled, not
--   retried (it was held in the queue and moved from window to window forever).
--   A human retry of such a send is refused. The sweeper cancels pending sends
--   of such leads too.
-- * A retry is only handed out on the sender-local day it counts on.
-- * A suppression that cancels a lead's send marks the lead skipped (reason).

-- A lead that answered or opted out: nothing more is sent to it.
create or replace function lead_stopped(p_lead_id bigint) returns boolean
language sql stable as $$
  select exists (select 1 from leads where id = p_lead_id
                  and status in ('replied', 'bounced', 'unsubscribed', 'complained'));
$$;

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
          -- the retry is handed out only on the sender-local day it counts on; one that
          -- would fall after that day's end is missed then, and the sweeper moves it
          -- (with its quota) to the first window on a day with room
          update sends s set status = 'failed', lease_expires_at = null, updated_at = p_now,
                             last_error = coalesce(r.input->>'error', 'failed'),
                             send_at = p_now + make_interval(secs => v_delay),
                             window_end = least(s.window_end, ((s.day + 1)::timestamp at time zone se.timezone))
            from senders se
           where s.id = r.id and se.id = s.sender_id;
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

create or replace function suppress_value(p_value text, p_kind text, p_reason text, p_now timestamptz)
returns integer language plpgsql volatile as $$
declare r record; n integer := 0;
begin
  insert into suppressions (value, kind, reason, created_at)
  values (lower(btrim(p_value)), p_kind, p_reason, p_now) on conflict do nothing;
  perform ledger_lock_all((select jsonb_agg(jsonb_build_object('sender', s.sender_id, 'day', s.day))
                             from sends s
                            where s.status in ('scheduled', 'failed')
                              and lower(btrim(p_value)) in (lower(s.to_email), split_part(lower(s.to_email), '@', 2))));
  for r in select distinct lead_id from sends
            where status in ('scheduled', 'failed')
              and lower(btrim(p_value)) in (lower(to_email), split_part(lower(to_email), '@', 2)) loop
    n := n + cancel_pending_sends(r.lead_id, 'suppressed: ' || p_reason, p_now);
    -- the lead says why nothing will be sent (not 'scheduled' with a cancelled send)
    update leads set status = 'skipped', status_reason = 'suppressed: ' || p_reason, updated_at = p_now
     where id = r.lead_id and status in ('scheduled', 'sending', 'needs_review');
  end loop;
  return n;
end;
$$;

-- the sweep finds composed leads whose lease ran out without a scan
create index if not exists leads_composed_lease on leads (lease_expires_at) where status = 'composed';

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

  -- claimed leads not composed in time, and composed leads nothing gated in time
  -- (the gate had no quota room, or the workflow stopped after compose), go back
  -- to new: nothing was sent, the stored draft is reused when they come round again
  for d in select distinct b.sender_id, b.day from leads l join batches b on b.id = l.batch_id
            where l.status in ('claimed', 'composed') and l.lease_expires_at <= p_now order by 1, 2 loop
    perform ledger_lock(d.sender_id, d.day);
    with expired as (
      select l.id from leads l join batches b on b.id = l.batch_id
       where l.status in ('claimed', 'composed') and l.lease_expires_at <= p_now
         and b.sender_id = d.sender_id and b.day = d.day
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
