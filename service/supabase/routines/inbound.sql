-- Inbound mail: every message the service reads (IMAP watcher, POST /v1/inbound)
-- is recorded once by its Message-ID, matched to our sends and leads, and turned
-- into events through record_event, the same function POST /v1/events calls.

-- Free-mail providers: two people at gmail.com are not colleagues.
create or replace function is_free_mail_domain(p_domain text) returns boolean
language sql immutable as $$
  select lower(p_domain) = any (array[
    'gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.es', 'ymail.com',
    'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'hotmail.de', 'hotmail.es', 'live.com', 'msn.com',
    'icloud.com', 'me.com', 'mac.com', 'aol.com', 'proton.me', 'protonmail.com', 'gmx.de', 'gmx.net', 'gmx.com',
    'web.de', 't-online.de', 'freenet.de', 'orange.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'wanadoo.fr',
    'telefonica.net', 'terra.es', 'mail.com', 'zoho.com', 'yandex.com', 'yandex.ru', 'mail.ru', 'qq.com', '163.com']);
$$;

-- Records one classified message (see service/src/inbound/classify.ts for the
-- fields) and returns what POST /v1/inbound answers. The same message twice
-- (same Message-ID) returns the first answer with duplicate = true.
-- Matching: our Message-ID in In-Reply-To/References (or, in a bounce or
-- complaint, in the quoted original) first; then the sender's address is a lead
-- we wrote to; then (not for free-mail domains) another address at the company
-- of a lead we wrote to.
create or replace function record_inbound(p_message jsonb, p_sender text default null, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare
  v_key text := p_message->>'messageKey';
  v_shape text := p_message->>'shape';
  v_from text := nullif(lower(btrim(p_message->>'from')), '');
  v_domain text := split_part(nullif(lower(btrim(p_message->>'from')), ''), '@', 2);
  v_related text[] := array(select norm_message_id(x) from jsonb_array_elements_text(coalesce(p_message->'relatedMessageIds', '[]')) x);
  v_irt text := norm_message_id(p_message->>'inReplyTo');
  v_kind text := 'other';
  v_lead_id bigint;
  v_send_id bigint;
  v_sender text := p_sender;
  v_matched_by text;
  v_event jsonb;
  v_events jsonb := '[]'::jsonb;
  v_recipients jsonb := null;
  v_r jsonb;
  v_r_lead bigint;
  v_r_send bigint;
  v_email text;
  v_result jsonb;
  v_base jsonb;
begin
  if v_key is null or v_shape is null then
    raise exception using errcode = 'CR000', message = 'validation_failed', detail = 'messageKey and shape are required.';
  end if;
  if p_sender is not null then
    perform sender_or_raise(p_sender);
  end if;

  -- a message seen twice is recorded once; a concurrent copy waits here for the first
  insert into inbound_messages (message_key, sender_id, kind, from_email, subject, result, received_at, created_at)
  values (v_key, p_sender, 'other', v_from, left(p_message->>'subject', 998), '{}'::jsonb,
          (p_message->>'receivedAt')::timestamptz, p_now)
  on conflict (message_key) do nothing;
  if not found then
    select result into v_result from inbound_messages where message_key = v_key;
    return v_result || jsonb_build_object('duplicate', true);
  end if;

  -- our send this message is about (the thread's first step wins over a later quote)
  select s.id, s.lead_id, s.sender_id into v_send_id, v_lead_id, v_sender from sends s
   where s.message_id = any (v_related)
   order by (s.message_id = v_irt) desc, s.id desc limit 1;
  v_sender := coalesce(p_sender, v_sender);
  if v_lead_id is not null then v_matched_by := 'message_id'; end if;

  v_base := jsonb_build_object('messageId', p_message->>'messageId', 'subject', left(p_message->>'subject', 2000),
                               'text', left(p_message->>'text', 100000), 'receivedAt', p_message->>'receivedAt');

  if v_shape = 'complaint' then
    v_kind := 'complaint';
    v_email := coalesce(nullif(lower(btrim(p_message->>'complaintEmail')), ''),
                        (select lower(l.email) from leads l where l.id = v_lead_id));
    if v_lead_id is null and v_email is not null then
      select l.id into v_lead_id from leads l where lower(l.email) = v_email;
      if v_lead_id is not null then v_matched_by := 'email'; end if;
    end if;
    if v_email is not null or v_lead_id is not null then
      v_event := record_event(v_base || jsonb_build_object('kind', 'complaint', 'email', v_email, 'dedupeKey', 'inbound:' || v_key),
                              v_lead_id, p_now);
      v_events := v_events || v_event;
    end if;

  elsif v_shape = 'bounce' then
    v_kind := 'bounce';
    v_recipients := '[]'::jsonb;
    v_lead_id := null;
    v_send_id := null;
    v_matched_by := null;
    for v_r in select * from jsonb_array_elements(coalesce(p_message->'bounce'->'recipients', '[]')) loop
      v_email := lower(btrim(v_r->>'email'));
      v_r_send := null;
      v_r_lead := null;
      -- the send the bounce quotes, if it went to this address; else the lead with this address
      select s.id, s.lead_id into v_r_send, v_r_lead from sends s
       where s.message_id = any (v_related) and lower(s.to_email) = v_email order by s.id desc limit 1;
      if v_r_lead is null then
        select l.id into v_r_lead from leads l where lower(l.email) = v_email;
      end if;
      if (v_r->>'hard')::boolean then
        v_event := record_event(v_base || jsonb_build_object('kind', 'bounce', 'email', v_email,
                                  'text', concat_ws(' ', v_r->>'status', v_r->>'diagnostic'),
                                  'dedupeKey', 'inbound:' || v_key || ':' || v_email),
                                v_r_lead, p_now);
      else
        v_event := record_soft_event('soft_bounce', 'inbound:' || v_key || ':' || v_email, v_email, v_r_lead, v_r_send,
                                     coalesce(v_sender, (select s.sender_id from sends s where s.id = v_r_send)),
                                     v_base || jsonb_build_object('text', concat_ws(' ', v_r->>'status', v_r->>'diagnostic')), p_now);
      end if;
      v_events := v_events || v_event;
      v_recipients := v_recipients || jsonb_build_object('email', v_email, 'status', v_r->>'status', 'hard', (v_r->>'hard')::boolean,
                                                         'leadId', v_r_lead::text);
      if v_lead_id is null and v_r_lead is not null then
        v_lead_id := v_r_lead;
        v_send_id := v_r_send;
        v_matched_by := case when v_r_send is not null then 'message_id' else 'email' end;
      end if;
    end loop;

  elsif v_shape in ('auto_reply', 'response') then
    if v_lead_id is null and v_from is not null then
      -- the address of a lead we wrote to
      select l.id into v_lead_id from leads l
       where lower(l.email) = v_from and exists (select 1 from sends s where s.lead_id = l.id and s.status = 'sent');
      if v_lead_id is not null then
        v_matched_by := 'email';
      elsif v_shape = 'response' and v_domain <> '' and not is_free_mail_domain(v_domain) then
        -- another address at the company of a lead we wrote to: the most recently written
        select s.lead_id, s.id into v_lead_id, v_send_id from sends s join leads l on l.id = s.lead_id
         where s.status = 'sent'
           and (split_part(lower(l.email), '@', 2) = v_domain or lower(l.company_domain) = v_domain)
         order by s.sent_at desc nulls last, s.id desc limit 1;
        if v_lead_id is not null then v_matched_by := 'company'; end if;
      end if;
    end if;
    if v_lead_id is not null and v_send_id is null then
      select s.id into v_send_id from sends s where s.lead_id = v_lead_id and s.status = 'sent' order by s.id desc limit 1;
    end if;

    if v_shape = 'auto_reply' then
      v_kind := 'auto_reply';
      -- the sender's stopOnAutoReply: the lead stops as on a reply (record_event), the event stays an auto_reply
      if v_lead_id is not null and coalesce((select stop_on_auto_reply from senders
                                               where id = coalesce(v_sender, (select s.sender_id from sends s where s.id = v_send_id))), false) then
        -- an out-of-office stops its lead, never the lead's company (record_event: only a reply does)
        v_event := record_event(v_base || jsonb_build_object('kind', 'auto_reply', 'email', v_from, 'inReplyTo', v_irt,
                                                             'dedupeKey', 'inbound:' || v_key), v_lead_id, p_now);
      else
        v_event := record_soft_event('auto_reply', 'inbound:' || v_key, v_from, v_lead_id, v_send_id,
                                     coalesce(v_sender, (select s.sender_id from sends s where s.id = v_send_id)), v_base, p_now);
      end if;
      v_events := v_events || v_event;
    elsif v_lead_id is not null then
      v_kind := case when (p_message->>'asksToStop')::boolean then 'unsubscribe' else 'reply' end;
      v_event := record_event(v_base || jsonb_build_object('kind', v_kind, 'email', v_from, 'inReplyTo', v_irt,
                                                           'dedupeKey', 'inbound:' || v_key), v_lead_id, p_now);
      v_events := v_events || v_event;
    end if;
  end if;

  v_result := jsonb_build_object(
    'kind', v_kind,
    'leadId', v_lead_id::text,
    'sendId', v_send_id::text,
    'matchedBy', v_matched_by,
    'bounce', case when v_recipients is null then null else jsonb_build_object('recipients', v_recipients) end,
    'event', case when jsonb_array_length(v_events) = 0 then null else (v_events->0) - 'duplicate' end,
    'events', (select coalesce(jsonb_agg(e - 'duplicate'), '[]'::jsonb) from jsonb_array_elements(v_events) e));
  -- a message from or about a person who was erased keeps nothing of them: not
  -- their address (as sender or bounced recipient), not the subject
  if exists (select 1 from leads where id = v_lead_id and status = 'erased')
     or exists (select from send_blocked(v_from) b where b.kind = 'erased')
     or exists (select from jsonb_array_elements(coalesce(v_recipients, '[]'::jsonb)) r, send_blocked(r->>'email') b
                 where b.kind = 'erased') then
    if v_recipients is not null then
      v_result := jsonb_set(v_result, '{bounce,recipients}', (
        select coalesce(jsonb_agg(case when exists (select from send_blocked(r->>'email') b where b.kind = 'erased')
                                       then r || jsonb_build_object('email', null) else r end), '[]'::jsonb)
          from jsonb_array_elements(v_recipients) r));
    end if;
    update inbound_messages set from_email = null, subject = null where message_key = v_key;
  end if;
  update inbound_messages
     set kind = v_kind, lead_id = v_lead_id, send_id = v_send_id, result = v_result,
         sender_id = coalesce(sender_id, v_sender)
   where message_key = v_key;
  return v_result || jsonb_build_object('duplicate', false);
end;
$$;

-- An event that informs but changes nothing (an auto-reply, a soft bounce):
-- recorded once by its key, answered like record_event.
create or replace function record_soft_event(p_kind text, p_key text, p_email text, p_lead_id bigint, p_send_id bigint,
                                             p_sender text, p_event jsonb, p_now timestamptz)
returns jsonb language plpgsql volatile as $$
declare v_id bigint; v_result jsonb;
begin
  -- nothing is kept of a person who was erased (their lead stays as it is)
  if exists (select 1 from leads where id = p_lead_id and status = 'erased')
     or exists (select from send_blocked(p_email) b where b.kind = 'erased') then
    p_email := null;
    p_event := p_event - 'subject' - 'text';
  end if;
  insert into events (kind, dedupe_key, lead_id, send_id, sender_id, email, message_id, subject, text, received_at, created_at)
  values (p_kind, p_key, p_lead_id, p_send_id, p_sender, p_email, norm_message_id(p_event->>'messageId'),
          p_event->>'subject', p_event->>'text', coalesce((p_event->>'receivedAt')::timestamptz, p_now), p_now)
  on conflict (dedupe_key) do nothing
  returning id into v_id;
  if v_id is null then
    select result into v_result from events where dedupe_key = p_key;
    return v_result || jsonb_build_object('duplicate', true);
  end if;
  v_result := jsonb_build_object('eventId', v_id::text, 'leadId', p_lead_id::text,
                                 'status', (select status from leads where id = p_lead_id),
                                 'cancelledSends', 0, 'suppressed', false);
  update events set result = v_result where id = v_id;
  return v_result || jsonb_build_object('duplicate', false);
end;
$$;
