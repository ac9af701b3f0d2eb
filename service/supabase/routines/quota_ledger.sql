-- The quota ledger (sender_days). Every change of a day's row goes through these
-- functions, and only they write sender_days (a test scans the routines for it);
-- see the quota_ledger migration for the lock order.

-- A sender's daily limit on one of its local days: its quota, lowered by
-- ramp-up. A ramped sender starts at ramp_start on ramp_from and gains
-- ramp_step per sending day (a day of its sending window, Mon–Fri by default)
-- before p_day, up to ramp_cap (and never above the quota). Counted on the
-- calendar, not on what was sent, so a day's limit is the same whenever its
-- ledger row is made (today, or ahead by the gate).
create or replace function sender_effective_limit(s senders, p_day date) returns integer
language plpgsql immutable as $$
declare
  v_days integer;
  v_weeks integer;
  v_sending_days integer;
begin
  if s.ramp_start is null then
    return s.daily_quota;
  end if;
  v_days := greatest(p_day - s.ramp_from, 0);
  v_weeks := v_days / 7;
  -- whole weeks, then the days left over, by weekday
  select v_weeks * cardinality(s.window_days) + count(*) into v_sending_days
    from generate_series(0, v_days - v_weeks * 7 - 1) i
   where (array['sun','mon','tue','wed','thu','fri','sat'])[extract(dow from s.ramp_from + v_weeks * 7 + i)::integer + 1]
         = any(s.window_days);
  return least(s.daily_quota, s.ramp_cap,
               (least(s.ramp_start::bigint + s.ramp_step::bigint * v_sending_days, 100000))::integer);
end;
$$;

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
  select s.id, p_day, sender_effective_limit(s, p_day) from senders s where s.id = p_sender
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
    select s.id, p_day, sender_effective_limit(s, p_day) from senders s where s.id = p_sender
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

-- A sender's limits changed (daily quota, ramp-up): every ledger day from
-- p_from_day on takes the sender's effective limit of that day. A lower limit
-- takes effect at once: a day that already used more keeps what it used as its
-- quota (the table's check) and has no room left.
create or replace function ledger_apply_limits(p_sender text, p_from_day date)
returns void language plpgsql volatile as $$
begin
  update sender_days d set quota = greatest(sender_effective_limit(s, d.day), d.claimed + d.scheduled + d.sent)
    from senders s
   where s.id = p_sender and d.sender_id = p_sender and d.day >= p_from_day;
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
