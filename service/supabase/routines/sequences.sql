-- Follow-up sequences: a sender's steps, when a lead's next step comes due,
-- and stopping a lead's (or its company's) sequence.

-- The sequence of a sender that never set one: step 1, then two follow-ups
-- after 3 and 5 of the recipient's business days, written by the AI.
create or replace function default_sequence_steps() returns jsonb
language sql immutable as $$
  select '[{"delayBusinessDays": 0, "mode": "ai", "instruction": null, "template": null},
           {"delayBusinessDays": 3, "mode": "ai", "instruction": "A short bump: two or three sentences that bring the first email back to mind.", "template": null},
           {"delayBusinessDays": 5, "mode": "ai", "instruction": "A polite last email: say this is the last note and leave the door open.", "template": null}]'::jsonb;
$$;

-- THE steps of a sender's sequence (its own, or the default).
create or replace function sequence_steps(p_sender text) returns jsonb
language sql stable as $$
  select coalesce((select steps from sequences where sender_id = p_sender), default_sequence_steps());
$$;

-- One step's definition (1-based), or null when the sequence has no such step.
create or replace function sequence_step(p_sender text, p_step integer) returns jsonb
language sql stable as $$
  select sequence_steps(p_sender) -> (p_step - 1);
$$;

create or replace function sequence_json(p_sender text) returns jsonb
language plpgsql stable as $$
declare
  s senders;
  q sequences;
begin
  s := sender_or_raise(p_sender);
  select * into q from sequences where sender_id = s.id;
  return jsonb_build_object(
    'sender', s.id,
    'steps', (select jsonb_agg(jsonb_build_object('step', n, 'delayBusinessDays', (e->>'delayBusinessDays')::integer,
                                                  'mode', e->>'mode', 'instruction', e->'instruction',
                                                  'template', e->'template') order by n)
                from jsonb_array_elements(coalesce(q.steps, default_sequence_steps())) with ordinality t(e, n)),
    'stopForCompany', coalesce(q.stop_for_company, true),
    'isDefault', q.sender_id is null,
    'updatedAt', q.updated_at);
end;
$$;

create or replace function get_sequence(p_sender text) returns jsonb
language sql stable as $$
  select sequence_json(p_sender);
$$;

-- Replaces a sender's sequence (validated by the service; the table checks the
-- shape again). Leads already in a sequence follow the new steps from their
-- next step on; a follow-up already waiting keeps the due day it was given.
create or replace function put_sequence(p_sender text, p_sequence jsonb, p_now timestamptz default now()) returns jsonb
language plpgsql volatile as $$
declare s senders;
begin
  s := sender_or_raise(p_sender);
  if jsonb_typeof(p_sequence->'steps') is distinct from 'array' or jsonb_array_length(p_sequence->'steps') not between 1 and 10
     or (p_sequence->'steps'->0->>'delayBusinessDays')::integer <> 0 then
    raise exception using errcode = 'CR000', message = 'validation_failed',
      detail = 'A sequence has 1 to 10 steps, and step 1 has no delay.';
  end if;
  insert into sequences (sender_id, steps, stop_for_company, updated_at)
  values (s.id,
          (select jsonb_agg(jsonb_build_object('delayBusinessDays', coalesce((e->>'delayBusinessDays')::integer, 0),
                                               'mode', coalesce(e->>'mode', 'ai'),
                                               'instruction', e->'instruction', 'template', e->'template') order by n)
             from jsonb_array_elements(p_sequence->'steps') with ordinality t(e, n)),
          coalesce((p_sequence->>'stopForCompany')::boolean, true), p_now)
  on conflict (sender_id) do update set steps = excluded.steps, stop_for_company = excluded.stop_for_company,
                                        updated_at = excluded.updated_at;
  -- waiting follow-ups of steps the sequence no longer has never come due
  delete from followups f where f.sender_id = s.id and sequence_step(s.id, f.step) is null;
  return sequence_json(s.id);
end;
$$;

-- The start of the recipient-local day p_days business days after the local
-- day of p_from (business days: the sender's window days, e.g. mon-fri, on the
-- recipient's calendar). Public holidays are not counted out here; the gate
-- never places a send on one.
create or replace function business_days_after(p_from timestamptz, p_zone text, p_days integer, p_window_days text[])
returns timestamptz language plpgsql immutable as $$
declare
  v_day date := (p_from at time zone p_zone)::date;
  v_left integer := p_days;
begin
  if coalesce(cardinality(p_window_days), 0) = 0 then
    return (v_day + p_days)::timestamp at time zone p_zone;
  end if;
  while v_left > 0 loop
    v_day := v_day + 1;
    if lower(to_char(v_day, 'dy')) = any(p_window_days) then
      v_left := v_left - 1;
    end if;
  end loop;
  return v_day::timestamp at time zone p_zone;
end;
$$;

-- THE due rule of a follow-up: step p_step of a lead is due from the start of
-- the recipient-local day its delay (in business days) after the moment step
-- p_step - 1 was sent; null while that step is not sent, or when the sender's
-- sequence has no step p_step.
create or replace function followup_due_at(p_lead_id bigint, p_step integer) returns timestamptz
language sql stable as $$
  select business_days_after(p.sent_at, p.timezone, (sequence_step(p.sender_id, p_step)->>'delayBusinessDays')::integer,
                             se.window_days)
    from sends p join senders se on se.id = p.sender_id
   where p.lead_id = p_lead_id and p.step = p_step - 1 and p.status = 'sent' and p.sent_at is not null
     and sequence_step(p.sender_id, p_step) is not null;
$$;

-- A send that became sent queues its lead's next step (when the sequence has
-- one and the lead has not stopped). One trigger for every path that records
-- a send as sent (n8n's report, Corofy's dispatcher, a reviewed send).
create or replace function followup_after_sent() returns trigger
language plpgsql as $$
declare v_due timestamptz;
begin
  if exists (select 1 from leads l where l.id = new.lead_id and lead_status_stopped(l.status)) then
    return null;
  end if;
  v_due := followup_due_at(new.lead_id, new.step + 1);
  if v_due is not null then
    insert into followups (lead_id, sender_id, step, due_at, created_at)
    values (new.lead_id, new.sender_id, new.step + 1, v_due, coalesce(new.sent_at, now()))
    on conflict (lead_id) do update set step = excluded.step, sender_id = excluded.sender_id, due_at = excluded.due_at
     where followups.step < excluded.step;
  end if;
  return null;
end;
$$;

drop trigger if exists followup_on_sent on sends;
create trigger followup_on_sent after update of status on sends
  for each row when (new.status = 'sent' and old.status is distinct from 'sent')
  execute function followup_after_sent();

-- The leads a reply at p_domain stops besides the one that replied: leads of
-- that company domain still in a sequence (a step claimed, composed, scheduled
-- or sent and a next one to come) whose sender stops for the company. A free
-- mail domain (gmail.com) is nobody's company.
create or replace function company_leads_to_stop(p_domain text, p_except bigint) returns bigint[]
language sql stable as $$
  select coalesce(array_agg(l.id order by l.id), '{}') from leads l
   where nullif(clean_domain(p_domain), '') is not null and not is_free_mail_domain(clean_domain(p_domain))
     and lower(l.company_domain) = clean_domain(p_domain)
     and l.id is distinct from p_except
     and l.status in ('claimed', 'composed', 'scheduled', 'sent', 'failed')
     and coalesce((select q.stop_for_company from sequences q
                    where q.sender_id = coalesce((select f.sender_id from followups f where f.lead_id = l.id),
                                                 (select s.sender_id from sends s where s.lead_id = l.id order by s.step desc limit 1),
                                                 (select b.sender_id from batches b where b.id = l.batch_id))), true)
     and (exists (select 1 from followups f where f.lead_id = l.id) or l.status <> 'sent');
$$;

-- Stops a lead's sequence (the caller holds the ledger rows of its pending
-- sends and its claim): pending sends cancelled, waiting follow-up dropped, a
-- claim given back. A send out right now (sending) is left alone: its outcome
-- is recorded, and no step comes after it.
create or replace function stop_sequence(p_lead_id bigint, p_status text, p_reason text, p_now timestamptz)
returns integer language plpgsql volatile as $$
declare
  l leads;
  n integer;
begin
  select * into l from leads where id = p_lead_id for update;
  if l.status in ('claimed', 'composed') then
    perform ledger_adjust(b.sender_id, b.day, -1, 0, 0) from batches b where b.id = l.batch_id;
  end if;
  delete from followups where lead_id = p_lead_id;
  n := cancel_pending_sends(p_lead_id, p_reason, p_now);
  update leads set status = p_status, status_reason = p_reason, lease_expires_at = null, updated_at = p_now
   where id = p_lead_id;
  return n;
end;
$$;

-- The ledger rows stopping these leads may touch (their pending sends' days and
-- their claims' days), for ledger_lock_all.
create or replace function sequence_ledger_days(p_lead_ids bigint[]) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(x), '[]'::jsonb) from (
    select jsonb_build_object('sender', s.sender_id, 'day', s.day) as x
      from sends s where s.lead_id = any(p_lead_ids) and s.status in ('scheduled', 'failed')
    union all
    select jsonb_build_object('sender', b.sender_id, 'day', b.day)
      from leads l join batches b on b.id = l.batch_id where l.id = any(p_lead_ids)) t;
$$;
