-- The background sweep.

-- Retention: the texts of events, inbound messages and webhook payloads, and
-- the bodies of sends that are done (sent, dead, cancelled), older than
-- p_days are removed (what happened and when stays; what was written goes).
-- Drafts go with their send's body. The tables are scanned: the service asks
-- for it about once an hour (see sweeper.ts); p_days null or 0 keeps
-- everything. Returns what it removed (null when it did not run).
create or replace function apply_retention(p_now timestamptz, p_days integer, p_limit integer default 10000)
returns jsonb language plpgsql volatile as $$
declare
  v_before timestamptz := p_now - make_interval(days => coalesce(p_days, 0));
  v_events integer := 0;
  v_sends integer := 0;
  v_inbound integer := 0;
  v_webhooks integer := 0;
begin
  if coalesce(p_days, 0) <= 0 then
    return null;
  end if;

  with old as (
    select id from events where received_at < v_before and (text is not null or subject is not null)
     order by id limit p_limit for update skip locked
  ), done as (
    update events e set text = null, subject = null from old where e.id = old.id returning e.id
  ) select count(*) into v_events from done;

  with old as (
    select id, lead_id, step from sends
     where status in ('sent', 'dead', 'cancelled') and coalesce(sent_at, updated_at) < v_before
       and (text <> '' or html <> '' or subject <> '')
     order by id limit p_limit for update skip locked
  ), drafts_gone as (
    delete from drafts d using old where d.lead_id = old.lead_id and d.step = old.step
  ), done as (
    update sends s set subject = '', text = '', html = '' from old where s.id = old.id returning s.id
  ) select count(*) into v_sends from done;

  with old as (
    select message_key from inbound_messages
     where coalesce(received_at, created_at) < v_before and (subject is not null or result ? 'event' or result ? 'events')
     order by message_key limit p_limit for update skip locked
  ), done as (
    update inbound_messages m set subject = null, result = m.result - 'event' - 'events'
      from old where m.message_key = old.message_key returning 1
  ) select count(*) into v_inbound from done;

  with old as (
    select id from webhook_deliveries
     where created_at < v_before and status <> 'pending' and (payload->'data' ? 'text' or payload->'data' ? 'subject')
     order by id limit p_limit for update skip locked
  ), done as (
    update webhook_deliveries w set payload = w.payload #- '{data,text}' #- '{data,subject}' #- '{data,result}'
      from old where w.id = old.id returning 1
  ) select count(*) into v_webhooks from done;

  return jsonb_build_object('events', v_events, 'sends', v_sends, 'inboundMessages', v_inbound, 'webhookDeliveries', v_webhooks);
end;
$$;

-- The background sweep (safe with several replicas: one sweeps at a time):
-- releases expired claims, turns expired sending leases into needs_review (their
-- outcome is unknown: it counts as sent and never goes back to the queue),
-- cancels pending sends to suppressed addresses, starts a new claim-scan epoch,
-- lists sends whose window passed for the service to place again, and, when
-- asked, applies retention (apply_retention: texts and bodies older than
-- p_retention_days; null: not this time).
create or replace function sweep(p_now timestamptz default now(), p_limit integer default 1000,
                                 p_retention_days integer default null)
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
    return jsonb_build_object('skipped', true, 'releasedClaims', 0, 'needsReview', 0, 'cancelled', 0, 'missed', '[]'::jsonb,
                              'retention', null);
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
      -- a lead on a follow-up goes back to waiting for it (sent), a first step to new
      update leads l set status = case when l.step > 1 then 'sent' else 'new' end,
                         batch_id = null, claimed_at = null, lease_expires_at = null, updated_at = p_now
        from expired where l.id = expired.id returning l.id, l.step
    ), waiting_again as (
      insert into followups (lead_id, sender_id, step, due_at, created_at)
      select back.id, d.sender_id, back.step, coalesce(followup_due_at(back.id, back.step), p_now), p_now
        from back where back.step > 1
      on conflict (lead_id) do nothing
    ) select count(*) into n from back;
    perform ledger_adjust(d.sender_id, d.day, -n, 0, 0);
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
    perform ledger_adjust(d.sender_id, d.day, 0, -n, n);
    v_review := v_review + n;
  end loop;

  for d in select distinct s.sender_id, s.day from sends s join leads l on l.id = s.lead_id
            where s.status in ('scheduled', 'failed')
              and (lead_status_stopped(l.status) or exists (select from send_blocked(s.to_email, l.company_domain)))
            order by 1, 2 loop
    perform ledger_lock(d.sender_id, d.day);
    with gone as (
      select s.id from sends s join leads l on l.id = s.lead_id
       where s.status in ('scheduled', 'failed')
         and (lead_status_stopped(l.status) or exists (select from send_blocked(s.to_email, l.company_domain)))
         and s.sender_id = d.sender_id and s.day = d.day
       order by s.id limit p_limit for update of s skip locked
    ), cancelled as (
      update sends s set status = 'cancelled', last_error = 'suppressed', lease_expires_at = null, updated_at = p_now
        from gone where s.id = gone.id returning s.lead_id
    ), lead_skipped as (
      update leads l set status = 'skipped', status_reason = 'suppressed', updated_at = p_now
        from cancelled where l.id = cancelled.lead_id and l.status in ('scheduled', 'sending', 'needs_review')
    ) select count(*) into n from cancelled;
    perform ledger_adjust(d.sender_id, d.day, 0, -n, 0);
    v_cancelled := v_cancelled + n;
  end loop;

  -- claims rescan from the start once (leads may have become new again)
  update lead_claim_scan set epoch = epoch + 1;

  v_missed := missed_sends(p_now, p_limit, null);

  return jsonb_build_object('skipped', false, 'releasedClaims', v_released, 'needsReview', v_review,
                            'cancelled', v_cancelled, 'missed', v_missed,
                            'retention', apply_retention(p_now, p_retention_days));
end;
$$;
