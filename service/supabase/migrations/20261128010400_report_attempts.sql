-- Reports scoped to the attempt they are about; a human retry keeps the attempt
-- numbers unique (they go on counting) and starts a fresh retry budget.
alter table sends add column if not exists retry_base integer not null default 0;

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
      if r.status in ('sending', 'needs_review') then
        v_recorded := v_recorded + 1;
        if v_permanent or r.attempts - r.retry_base >= p_max_attempts then
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
                            'duplicates', v_dupes, 'ignored', v_ignored);
end;
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
begin
  select * into s from sends where id = p_id;
  if not found then
    raise exception using errcode = 'CR404', message = 'send_not_found', detail = format('No send has id %s.', p_id);
  end if;
  if s.status not in ('dead', 'needs_review') then
    raise exception using errcode = 'CR409', message = 'send_not_retryable',
      detail = format('Send %s is %s; only dead or needs_review sends can be retried.', p_id, s.status);
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

