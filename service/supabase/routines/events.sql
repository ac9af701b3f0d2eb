-- Events: replies, bounces, complaints and unsubscribes.

-- "<abc@x>", " abc@x " and "abc@x" are the same Message-ID.
create or replace function norm_message_id(p text) returns text
language sql immutable as $$
  select nullif(btrim(btrim(p), '<>'), '');
$$;

-- Records a reply, bounce, complaint or unsubscribe (or an auto-reply that stops
-- its lead). Matched by the Message-ID we sent (inReplyTo, then messageId), then
-- by email. The same event twice returns the first answer and changes nothing.
--
-- Events matched by our Message-ID (inReplyTo / messageId) rather than by
-- address: a bounce notice comes from the mail system (MAILER-DAEMON@…), an
-- opt-out may be forwarded by someone else. The address we sent to bounced or
-- opted out, so it is suppressed too (before, only the notice's sender was, and
-- a human retry could send to the bounced address again).
create or replace function record_event(p_event jsonb, p_lead_id bigint default null, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare
  v_kind text := p_event->>'kind';
  v_email text := nullif(lower(btrim(p_event->>'email')), '');
  v_msg text := norm_message_id(p_event->>'messageId');
  v_irt text := norm_message_id(p_event->>'inReplyTo');
  v_received timestamptz := coalesce((p_event->>'receivedAt')::timestamptz, p_now);
  v_key text;
  v_event_id bigint;
  v_lead leads;
  v_send_id bigint;
  v_status text;
  v_cancelled integer := 0;
  v_stop boolean;
  v_result jsonb;
  v_company bigint[] := '{}';
  v_other bigint;
begin
  v_key := coalesce(p_event->>'dedupeKey',
                    md5(concat_ws(chr(31), v_kind, v_msg, v_irt, v_email, p_event->>'receivedAt',
                                  p_event->>'subject', p_event->>'text', p_lead_id::text)));
  insert into events (kind, dedupe_key, email, message_id, in_reply_to, subject, text, received_at, created_at)
  values (v_kind, v_key, v_email, v_msg, v_irt, p_event->>'subject', p_event->>'text', v_received, p_now)
  on conflict (dedupe_key) do nothing
  returning id into v_event_id;
  if v_event_id is null then
    select result into v_result from events where dedupe_key = v_key;
    return coalesce(v_result, '{}'::jsonb) || jsonb_build_object('duplicate', true);
  end if;

  if p_lead_id is not null then
    select * into v_lead from leads where id = p_lead_id;
  else
    select s.id, s.lead_id into v_send_id, v_lead.id from sends s
     where s.message_id in (v_irt, v_msg)
     order by (s.message_id = v_irt) desc nulls last limit 1;
    if v_lead.id is not null then
      select * into v_lead from leads where id = v_lead.id;
    elsif v_email is not null then
      select * into v_lead from leads where lower(email) = v_email;
    end if;
  end if;

  -- a message from or about a person who was erased (a late reply to an email
  -- sent before): nothing of it is kept and nothing changes; they are blocked
  -- already (by hash), and their lead stays erased
  if v_lead.status = 'erased' or exists (select from send_blocked(v_email) b where b.kind = 'erased') then
    v_result := jsonb_build_object('eventId', v_event_id::text, 'leadId', v_lead.id::text,
                                   'status', case when v_lead.id is null then null else 'erased' end,
                                   'cancelledSends', 0, 'suppressed', false);
    update events set email = null, subject = null, text = null, lead_id = v_lead.id, send_id = v_send_id, result = v_result
     where id = v_event_id;
    return v_result || jsonb_build_object('duplicate', false);
  end if;

  -- an auto-reply reaches here only when its sender stops leads on one (record_inbound):
  -- the lead is stopped as replied, nothing is suppressed
  v_status := case v_kind when 'reply' then 'replied' when 'auto_reply' then 'replied' when 'bounce' then 'bounced'
                          when 'complaint' then 'complained' else 'unsubscribed' end;
  v_stop := v_kind = 'reply'
            and coalesce(p_event->>'text', '') ~* '^\s*(stop|unsubscribe|remove me|take me off)\y';
  v_email := coalesce(v_email, lower(btrim(v_lead.email)));

  -- a reply stops the lead's company too (stopForCompany): its other leads in a
  -- sequence; an auto-reply (recorded as a reply when the sender stops on them) does not
  if v_kind = 'reply' and not coalesce((p_event->>'autoReply')::boolean, false) then
    v_company := company_leads_to_stop(coalesce(v_lead.company_domain, split_part(v_email, '@', 2)), v_lead.id);
  end if;

  if v_lead.id is not null or cardinality(v_company) > 0 then
    -- the global lock order: ledger rows of everything we may release, then the rows
    perform ledger_lock_all(sequence_ledger_days(v_company || v_lead.id));
  end if;
  if v_lead.id is not null then
    v_cancelled := stop_sequence(v_lead.id, v_status, v_kind || coalesce(': ' || left(p_event->>'subject', 200), ''), p_now);
  end if;
  foreach v_other in array v_company loop
    v_cancelled := v_cancelled + stop_sequence(v_other, 'stopped', 'company_replied: ' || coalesce(v_email, 'someone at the company'), p_now);
  end loop;

  -- an address that bounced, complained or opted out is suppressed even if no lead matched
  if v_email is not null and (v_kind in ('bounce', 'complaint', 'unsubscribe') or v_stop) then
    v_cancelled := v_cancelled + suppress_value(v_email, 'email',
                     case when v_stop then 'replied_stop' else v_kind end, p_now);
  end if;
  -- matched by our Message-ID, the event may come from another address (a bounce
  -- from MAILER-DAEMON, a forwarded opt-out): the address we sent to is suppressed too
  if nullif(lower(btrim(v_lead.email)), '') is distinct from v_email and v_lead.email is not null
     and (v_kind in ('bounce', 'complaint', 'unsubscribe') or v_stop) then
    v_cancelled := v_cancelled + suppress_value(v_lead.email, 'email',
                     case when v_stop then 'replied_stop' else v_kind end, p_now);
  end if;

  v_result := jsonb_build_object('eventId', v_event_id::text, 'leadId', v_lead.id::text,
                                 'status', case when v_lead.id is null then null else v_status end,
                                 'cancelledSends', v_cancelled,
                                 'stoppedLeads', (select coalesce(jsonb_agg(x::text), '[]'::jsonb) from unnest(v_company) x),
                                 'suppressed', v_email is not null and (v_kind in ('bounce', 'complaint', 'unsubscribe') or v_stop));
  -- the send the event answers: the one matched by Message-ID, else the lead's
  -- latest step sent (stats count replies and bounces per step by it)
  v_send_id := coalesce(v_send_id, (select x.id from sends x where x.lead_id = v_lead.id and x.status in ('sent', 'sending', 'needs_review')
                                     order by x.step desc limit 1));
  update events set lead_id = v_lead.id, send_id = v_send_id, result = v_result,
                    sender_id = coalesce(
                      (select m.sender_id from sends m where m.id = v_send_id),
                      (select l.sender_id from sends l where l.lead_id = v_lead.id order by l.id desc limit 1),
                      (select b.sender_id from batches b where b.id = v_lead.batch_id))
   where id = v_event_id;
  -- a hard bounce or a complaint counts against the mailbox it answers (mailbox health)
  if v_kind in ('bounce', 'complaint') then
    perform mailbox_health_check((select sender_id from events where id = v_event_id), p_now);
  end if;
  return v_result || jsonb_build_object('duplicate', false);
end;
$$;

-- The one-click / confirmed unsubscribe of a lead (token already verified).
create or replace function unsubscribe_lead(p_lead_id bigint, p_now timestamptz default now()) returns jsonb
language plpgsql volatile as $$
declare l leads;
begin
  select * into l from leads where id = p_lead_id;
  if not found then
    raise exception using errcode = 'CR000', message = 'lead_not_found', detail = 'This unsubscribe link is not valid.';
  end if;
  return record_event(jsonb_build_object('kind', 'unsubscribe', 'email', l.email,
                                         'dedupeKey', 'unsubscribe-link:' || l.id),
                      p_lead_id, p_now);
end;
$$;
