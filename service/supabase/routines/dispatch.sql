-- The dispatcher: Corofy sends through the sender's own mailbox (delivery 'corofy').
-- One replica drives a mailbox at a time (a lease per mailbox and role, renewed
-- while its holder lives, taken over when it stops renewing); sends are claimed
-- and settled through the same functions n8n's path uses (claim_due_sends,
-- report_sends), so quota, suppression and at-most-once rules stay in one place.

-- Takes (or renews) the lease of every mailbox the role should drive and nobody
-- else holds, and gives up those it should not drive any more (paused, changed
-- delivery). Returns the sender ids p_holder now drives.
-- smtp: delivery 'corofy' with SMTP settings, not paused; imap: IMAP settings.
create or replace function take_mailbox_leases(p_role text, p_holder text, p_seconds integer, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare v jsonb;
begin
  delete from mailbox_leases l
   where l.role = p_role and l.holder = p_holder
     and not exists (select 1 from mailboxes m where m.sender_id = l.sender_id and m.paused_at is null
                        and case p_role when 'smtp' then m.delivery = 'corofy' and m.smtp is not null
                                        else m.imap is not null end);
  insert into mailbox_leases as l (sender_id, role, holder, expires_at)
  select m.sender_id, p_role, p_holder, p_now + make_interval(secs => p_seconds)
    from mailboxes m
   where m.paused_at is null
     and case p_role when 'smtp' then m.delivery = 'corofy' and m.smtp is not null else m.imap is not null end
  order by m.sender_id
  on conflict (sender_id, role) do update set holder = excluded.holder, expires_at = excluded.expires_at
   where l.holder = excluded.holder or l.expires_at <= p_now;
  select coalesce(jsonb_agg(sender_id order by sender_id), '[]'::jsonb) into v
    from mailbox_leases where role = p_role and holder = p_holder and expires_at > p_now;
  return v;
end;
$$;

create or replace function release_mailbox_leases(p_role text, p_holder text) returns integer
language plpgsql volatile as $$
declare n integer;
begin
  delete from mailbox_leases where role = p_role and holder = p_holder;
  get diagnostics n = row_count;
  return n;
end;
$$;

-- Claims the sender's due sends for the dispatcher that holds its SMTP lease
-- (a replica that lost the lease gets nothing), and gives each its Message-ID
-- before anything is sent: the ID is on the send before the message exists, so
-- a reply or bounce can be matched whatever happens next. Each send also carries
-- the Message-IDs of the lead's earlier steps (threading for follow-ups).
create or replace function dispatch_claim(
  p_sender text,
  p_holder text,
  p_limit integer,
  p_lease_seconds integer,
  p_now timestamptz default now()
) returns jsonb language plpgsql volatile as $$
declare
  v_claimed jsonb;
  v_domain text;
  v_ids bigint[];
begin
  if not exists (select 1 from mailbox_leases where sender_id = p_sender and role = 'smtp'
                    and holder = p_holder and expires_at > p_now) then
    return '[]'::jsonb;
  end if;
  if exists (select 1 from mailboxes where sender_id = p_sender and paused_at is not null) then
    return '[]'::jsonb;
  end if;
  select lower(split_part(from_email, '@', 2)) into v_domain from senders where id = p_sender;
  v_claimed := claim_due_sends(p_sender, p_limit, p_lease_seconds, p_now)->'sends';
  select coalesce(array_agg((x->>'sendId')::bigint), '{}') into v_ids from jsonb_array_elements(v_claimed) x;
  update sends set message_id = format('%s.%s@%s', id, substr(md5(random()::text || clock_timestamp()::text), 1, 16), v_domain)
   where id = any(v_ids) and message_id is null;
  return (
    select coalesce(jsonb_agg(send_json(s) || jsonb_build_object(
             'thread', (select coalesce(jsonb_agg(p.message_id order by p.step), '[]'::jsonb)
                          from sends p where p.lead_id = s.lead_id and p.step < s.step and p.message_id is not null))
           order by s.send_at, s.id), '[]'::jsonb)
      from sends s where s.id = any(v_ids));
end;
$$;

-- Settles one SMTP transaction of the dispatcher (p_attempt: the send's attempts
-- when it was claimed; a stale outcome changes nothing).
-- kind: sent (the server's reply line kept), retry (backoff), bounce (5.1.x: dead,
-- address suppressed), rejected (other 5xx: dead, no suppression), needs_review
-- (no answer after the body: never resent by itself).
create or replace function dispatch_record(
  p_send_id bigint,
  p_attempt integer,
  p_outcome jsonb,
  p_max_attempts integer default 5,
  p_backoff_seconds integer default 300,
  p_now timestamptz default now()
) returns jsonb language plpgsql volatile as $$
declare
  s sends;
  v_kind text := p_outcome->>'kind';
  v_error text := p_outcome->>'error';
  v jsonb;
begin
  select * into s from sends where id = p_send_id;
  if not found then
    raise exception using errcode = 'CR000', message = 'send_not_found', detail = format('No send has id %s.', p_send_id);
  end if;
  if v_kind = 'sent' then
    v := report_sends(jsonb_build_array(jsonb_build_object('sendId', s.id::text, 'status', 'sent',
           'messageId', s.message_id, 'attempt', p_attempt)), p_max_attempts, p_backoff_seconds, p_now);
    update sends set smtp_response = p_outcome->>'response' where id = s.id and status = 'sent';
  elsif v_kind in ('retry', 'bounce') then
    v := report_sends(jsonb_build_array(jsonb_build_object('sendId', s.id::text, 'status', 'failed',
           'error', v_error, 'permanent', v_kind = 'bounce', 'attempt', p_attempt)), p_max_attempts, p_backoff_seconds, p_now);
  elsif v_kind = 'rejected' then
    -- dead at once, like a last attempt; the address stays usable (not a bounce)
    v := report_sends(jsonb_build_array(jsonb_build_object('sendId', s.id::text, 'status', 'failed',
           'error', v_error, 'attempt', p_attempt)), 0, p_backoff_seconds, p_now);
    update leads set status_reason = format('rejected by the recipient''s server: %s', v_error)
     where id = s.lead_id and status = 'dead';
  elsif v_kind = 'needs_review' then
    perform ledger_lock(s.sender_id, s.day);
    update sends set status = 'needs_review', lease_expires_at = null, last_error = v_error, updated_at = p_now
     where id = s.id and status = 'sending' and attempts = p_attempt;
    if found then
      -- outcome unknown counts as sent: it may well have gone out
      perform ledger_adjust(s.sender_id, s.day, 0, -1, 1);
      update leads set status = 'needs_review', status_reason = 'outcome of the send unknown: the connection ended before the server answered',
                       updated_at = p_now
       where id = s.lead_id and status = 'sending';
      v := jsonb_build_object('recorded', 1);
    else
      v := jsonb_build_object('recorded', 0);
    end if;
  else
    raise exception using errcode = 'CR000', message = 'validation_failed', detail = format('Unknown outcome kind %s.', v_kind);
  end if;
  return v;
end;
$$;

-- Sends handed out now by the gate, for a sender whose mailbox Corofy drives,
-- go to the dispatcher (scheduled at once) instead of to the caller: the gate's
-- answer says what was handed over, nobody else sends them. With an idempotency
-- key the gate is gate_leads_once (a call sent again answers as the first did).
create or replace function gate_and_hand_over(
  p_sender text,
  p_leads jsonb,
  p_now timestamptz default now(),
  p_lease_seconds integer default 600,
  p_idempotency_key text default null
) returns jsonb language plpgsql volatile as $$
declare
  v jsonb;
  v_ids bigint[];
begin
  if p_idempotency_key is null then
    v := gate_leads(p_sender, p_leads, p_now, p_lease_seconds);
  else
    v := gate_leads_once(p_sender, p_leads, p_idempotency_key, p_now, p_lease_seconds);
  end if;
  if coalesce((select delivery from mailboxes where sender_id = p_sender), 'n8n') <> 'corofy' then
    return v || jsonb_build_object('delivery', 'n8n');
  end if;
  select coalesce(array_agg((x->>'sendId')::bigint), '{}') into v_ids from jsonb_array_elements(v->'sendNow') x;
  update sends set status = 'scheduled', lease_expires_at = null, attempts = attempts - 1, updated_at = p_now
   where id = any(v_ids) and status = 'sending';
  update leads l set status = 'scheduled', updated_at = p_now
    from sends s where s.id = any(v_ids) and l.id = s.lead_id and l.status = 'sending';
  return v || jsonb_build_object(
    'delivery', 'corofy',
    'sendNow', (select coalesce(jsonb_agg(gate_send_json(x) order by x.lead_id), '[]'::jsonb) from sends x where x.id = any(v_ids)));
end;
$$;

-- The queue drain (POST /v1/sends/claim-due) is n8n's path: it never hands out
-- the sends of a sender whose mailbox Corofy drives (the dispatcher sends those).
create or replace function claim_due_for_n8n(
  p_sender text default null,
  p_limit integer default 100,
  p_lease_seconds integer default 600,
  p_now timestamptz default now()
) returns jsonb language plpgsql volatile as $$
declare
  r record;
  v jsonb := '[]'::jsonb;
begin
  if p_sender is not null then
    if coalesce((select delivery from mailboxes where sender_id = p_sender), 'n8n') = 'corofy' then
      raise exception using errcode = 'CR000', message = 'delivery_corofy',
        detail = format('Sender "%s" has delivery "corofy": the service sends its email itself; n8n must not claim it.', p_sender);
    end if;
    return claim_due_sends(p_sender, p_limit, p_lease_seconds, p_now);
  end if;
  for r in select s.id from senders s left join mailboxes m on m.sender_id = s.id
            where coalesce(m.delivery, 'n8n') = 'n8n' order by s.id loop
    exit when jsonb_array_length(v) >= p_limit;
    v := v || (claim_due_sends(r.id, p_limit - jsonb_array_length(v), p_lease_seconds, p_now)->'sends');
  end loop;
  return jsonb_build_object('sends', v);
end;
$$;

-- Gives sends handed to n8n our Message-ID (on the sender's domain) before the
-- message exists, so the `raw` message n8n may send carries it and replies match.
-- Senders without fromEmail get none (no domain to put it on).
create or replace function assign_message_ids(p_send_ids jsonb) returns jsonb
language plpgsql volatile as $$
begin
  update sends s set message_id = format('%s.%s@%s', s.id, substr(md5(random()::text || clock_timestamp()::text), 1, 16),
                                         lower(split_part(se.from_email, '@', 2)))
    from senders se
   where se.id = s.sender_id and se.from_email is not null and s.message_id is null
     and s.id in (select jsonb_array_elements_text(p_send_ids)::bigint);
  return (
    select coalesce(jsonb_agg(jsonb_build_object(
             'sendId', s.id::text,
             'messageId', s.message_id,
             'fromName', se.from_name,
             'fromEmail', se.from_email,
             'unsubscribeEmail', m.unsubscribe_email,
             'thread', (select coalesce(jsonb_agg(p.message_id order by p.step), '[]'::jsonb)
                          from sends p where p.lead_id = s.lead_id and p.step < s.step and p.message_id is not null))), '[]'::jsonb)
      from sends s join senders se on se.id = s.sender_id left join mailboxes m on m.sender_id = s.sender_id
     where s.id in (select jsonb_array_elements_text(p_send_ids)::bigint) and s.message_id is not null);
end;
$$;
