-- The background sweep.

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
                            'cancelled', v_cancelled, 'missed', v_missed);
end;
$$;
