-- The quota ledger (sender_days). Every change of a day's row goes through these
-- functions, and only they write sender_days (a test scans the routines for it);
-- see the quota_ledger migration for the lock order.

-- The ledger row of a sender-day, locked. Every claim, gate and outcome locks one:
-- take the existing row straight away and only try an insert (with the sender's
-- quota) for a day seen for the first time.
create or replace function ledger_lock(p_sender text, p_day date) returns sender_days
language plpgsql volatile as $$
declare r sender_days;
begin
  select * into r from sender_days where sender_id = p_sender and day = p_day for update;
  if found then
    return r;
  end if;
  insert into sender_days (sender_id, day, quota)
  select id, p_day, daily_quota from senders where id = p_sender
  on conflict do nothing;
  select * into r from sender_days where sender_id = p_sender and day = p_day for update;
  return r;
end;
$$;

-- The ledger row of a sender-day if it can be locked without waiting, else
-- null (another request holds it, or is creating it right now). For a caller
-- that already holds lead or send rows: waiting for a ledger row there could
-- close a cycle with a request that holds the ledger row and waits for those
-- rows (the global order is ledger rows first). A row this transaction already
-- holds is returned. (An insert of a day another transaction is inserting waits
-- for that transaction; the lock_timeout turns that wait into "busy".)
create or replace function ledger_try_lock(p_sender text, p_day date) returns sender_days
language plpgsql volatile set lock_timeout = '50ms' as $$
declare r sender_days;
begin
  select * into r from sender_days where sender_id = p_sender and day = p_day for update skip locked;
  if found or exists (select 1 from sender_days where sender_id = p_sender and day = p_day) then
    return r;
  end if;
  begin
    insert into sender_days (sender_id, day, quota)
    select id, p_day, daily_quota from senders where id = p_sender
    on conflict do nothing;
  exception when lock_not_available then
    return null;
  end;
  select * into r from sender_days where sender_id = p_sender and day = p_day for update skip locked;
  return r;
end;
$$;

-- Adds deltas to a sender-day (the table's check keeps it within quota).
create or replace function ledger_adjust(p_sender text, p_day date, p_claimed integer, p_scheduled integer, p_sent integer)
returns void language plpgsql volatile as $$
begin
  perform ledger_lock(p_sender, p_day);
  update sender_days
     set claimed = claimed + p_claimed, scheduled = scheduled + p_scheduled, sent = sent + p_sent
   where sender_id = p_sender and day = p_day;
end;
$$;

-- A claim of p_claimed leads on a sender-day, and where the next claim of that
-- day starts its scan (see lead_claim_scan in the batches migration).
create or replace function ledger_record_claim(p_sender text, p_day date, p_claimed integer,
                                               p_claim_low bigint, p_claim_epoch bigint)
returns void language plpgsql volatile as $$
begin
  perform ledger_lock(p_sender, p_day);
  update sender_days set claimed = claimed + p_claimed, claim_low = p_claim_low, claim_epoch = p_claim_epoch
   where sender_id = p_sender and day = p_day;
end;
$$;

-- A sender's new daily quota, from p_from_day on. A lower quota takes effect at
-- once: a day that already used more keeps what it used as its quota (the
-- table's check) and has no room left.
create or replace function ledger_set_quota(p_sender text, p_quota integer, p_from_day date)
returns void language plpgsql volatile as $$
begin
  update sender_days set quota = greatest(p_quota, claimed + scheduled + sent)
   where sender_id = p_sender and day >= p_from_day;
end;
$$;

-- Locks the given sender-days in ascending order (the global lock order).
create or replace function ledger_lock_all(p_days jsonb) returns void
language plpgsql volatile as $$
declare d record;
begin
  for d in select distinct x->>'sender' as sender_id, (x->>'day')::date as day
             from jsonb_array_elements(coalesce(p_days, '[]'::jsonb)) x
            where x->>'sender' is not null and x->>'day' is not null
            order by 1, 2 loop
    perform ledger_lock(d.sender_id, d.day);
  end loop;
end;
$$;
