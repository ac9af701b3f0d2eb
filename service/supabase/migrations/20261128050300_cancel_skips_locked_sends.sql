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
