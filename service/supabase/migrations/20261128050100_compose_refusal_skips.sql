-- A claimed (or composed) lead that compose refuses because its address, domain
-- or company domain is suppressed ends there: skipped with the reason, its
-- claim given back. Left claimed, it held the day's quota until its lease ran
-- out, went back to new, and was claimed and refused again on every later run
-- (the claim skips only the address and its domain).
create or replace function skip_suppressed_lead(p_lead_id bigint, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare
  l leads;
  b batches;
  n integer;
begin
  select * into l from leads where id = p_lead_id;
  if not found or l.status not in ('claimed', 'composed') then
    return jsonb_build_object('skipped', false);
  end if;
  -- the global lock order: the ledger row of the claim's day, then the lead
  select * into b from batches where id = l.batch_id;
  if b.id is not null then
    perform ledger_lock(b.sender_id, b.day);
  end if;
  update leads set status = 'skipped', status_reason = 'suppressed', lease_expires_at = null, updated_at = p_now
   where id = p_lead_id and status in ('claimed', 'composed') and batch_id is not distinct from l.batch_id
     and lead_is_suppressed(leads);
  get diagnostics n = row_count;
  if n = 1 and b.id is not null then
    update sender_days set claimed = claimed - 1
     where sender_id = b.sender_id and day = b.day and claimed > 0;
  end if;
  return jsonb_build_object('skipped', n = 1);
end;
$$;
