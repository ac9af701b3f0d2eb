-- Compliance: erasure of a person (GDPR Art. 17) and what the sweeper's
-- retention removes (see sweeper.sql).

-- Erases a lead's person everywhere Corofy keeps their data: the lead row
-- (only its id, status 'erased', where it came from and when are kept, so
-- counts and the other rows that point at it stay whole), drafts, the bodies
-- and address of sends, the text of events and inbound messages about them,
-- and the payloads of webhook deliveries about them. What stays is a hashed
-- suppression (erased_keys): send_blocked recognises the person again, so
-- they are never emailed, imported or paid for (Apollo reveal) again.
-- Pending sends are cancelled and a claim not yet sent gives its quota back.
-- Erasing an erased lead changes nothing.
create or replace function erase_lead(p_lead_id bigint, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare
  l leads;
  v_email text;
  v_cancelled integer := 0;
  v_released boolean := false;
  v_batch batches;
begin
  select * into l from leads where id = p_lead_id;
  if not found then
    raise exception using errcode = 'CR000', message = 'lead_not_found',
      detail = format('No lead has id %s.', p_lead_id);
  end if;
  if l.status = 'erased' then
    return jsonb_build_object('leadId', l.id::text, 'status', 'erased', 'cancelledSends', 0, 'alreadyErased', true);
  end if;

  -- the global lock order: ledger rows (the claim's day, the pending sends'
  -- days), then the lead, then its sends
  select * into v_batch from batches where id = l.batch_id;
  perform ledger_lock_all(
    coalesce((select jsonb_agg(jsonb_build_object('sender', s.sender_id, 'day', s.day))
                from sends s where s.lead_id = l.id and s.status in ('scheduled', 'failed')), '[]'::jsonb)
    || case when v_batch.id is not null and l.status in ('claimed', 'composed')
            then jsonb_build_array(jsonb_build_object('sender', v_batch.sender_id, 'day', v_batch.day)) else '[]'::jsonb end);
  select * into l from leads where id = p_lead_id for update;
  if l.status = 'erased' then
    return jsonb_build_object('leadId', l.id::text, 'status', 'erased', 'cancelledSends', 0, 'alreadyErased', true);
  end if;
  -- wait for a send being handed out right now: it is either out (sending)
  -- or still pending, and then cancelled below, never skipped
  perform 1 from sends where lead_id = l.id order by id for update;
  v_email := lower(btrim(l.email));

  perform suppress_erased(l.email, l.apollo_id, p_now);

  v_cancelled := cancel_pending_sends(l.id, 'erased', p_now);
  -- a claim not sent yet gives its day's quota back
  if l.status in ('claimed', 'composed') and v_batch.id is not null
     and (select d.claimed > 0 from sender_days d where d.sender_id = v_batch.sender_id and d.day = v_batch.day) then
    perform ledger_adjust(v_batch.sender_id, v_batch.day, -1, 0, 0);
    v_released := true;
  end if;

  delete from drafts where lead_id = l.id;
  update sends set to_email = '', subject = '', text = '', html = '',
                   last_error = case when v_email is not null and strpos(lower(last_error), v_email) > 0 then 'erased' else last_error end,
                   updated_at = p_now
   where lead_id = l.id;
  update events set email = null, subject = null, text = null
   where lead_id = l.id or (v_email is not null and lower(email) = v_email);
  update inbound_messages
     set from_email = null, subject = null,
         result = jsonb_build_object('kind', result->'kind', 'leadId', result->'leadId', 'sendId', result->'sendId', 'erased', true)
   where lead_id = l.id or (v_email is not null and lower(from_email) = v_email);
  update webhook_deliveries
     set payload = jsonb_build_object('type', payload->'type', 'timestamp', payload->'timestamp',
                                      'data', jsonb_build_object('leadId', l.id::text, 'erased', true))
   where payload->'data'->>'leadId' = l.id::text or payload->'data'->'lead'->>'id' = l.id::text
      or (v_email is not null and lower(payload->'data'->>'email') = v_email);
  delete from apollo_reservations where apollo_id = l.apollo_id;
  delete from lead_queue where lead_id = l.id;
  update leads set
    email = null, first_name = null, last_name = null, title = null, company_name = null,
    company_domain = null, website = null, industry = null, country = null, state = null,
    city = null, timezone = null, linkedin_url = null, external_id = null, apollo_id = null,
    source_detail = null, resolved_timezone = null, timezone_source = null,
    status = 'erased', status_reason = null, lease_expires_at = null, updated_at = p_now
  where id = l.id;

  return jsonb_build_object('leadId', l.id::text, 'status', 'erased', 'cancelledSends', v_cancelled,
                            'claimReleased', v_released, 'alreadyErased', false);
end;
$$;
