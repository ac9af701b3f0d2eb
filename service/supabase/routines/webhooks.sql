-- Webhooks: subscriptions (the Corofy Trigger registers one per active workflow)
-- and an outbox of deliveries. A delivery row is written in the same transaction
-- as the event it announces, so an event is never recorded without its
-- notifications, and a notification never announces an event that rolled back.

create or replace function webhook_json(w webhooks) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', w.id, 'url', w.url, 'events', to_jsonb(w.events), 'description', w.description, 'createdAt', w.created_at,
    'deliveries', (select jsonb_build_object(
                     'pending', count(*) filter (where d.status = 'pending'),
                     'delivered', count(*) filter (where d.status = 'delivered'),
                     'dead', count(*) filter (where d.status = 'dead'))
                     from webhook_deliveries d where d.webhook_id = w.id));
$$;

create or replace function create_webhook(p_url text, p_events text[], p_secret text, p_description text default null,
                                          p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare w webhooks;
begin
  insert into webhooks (url, events, secret, description, created_at)
  values (p_url, (select array_agg(distinct e order by e) from unnest(p_events) e), p_secret, p_description, p_now)
  returning * into w;
  return webhook_json(w) || jsonb_build_object('secret', w.secret);
end;
$$;

create or replace function list_webhooks() returns jsonb
language sql stable as $$
  select jsonb_build_object('webhooks', coalesce(jsonb_agg(webhook_json(w) order by w.created_at, w.id), '[]'::jsonb))
    from webhooks w;
$$;

create or replace function get_webhook(p_id uuid) returns jsonb
language plpgsql stable as $$
declare w webhooks;
begin
  select * into w from webhooks where id = p_id;
  if not found then
    raise exception using errcode = 'CR000', message = 'webhook_not_found', detail = format('No webhook has id %s.', p_id);
  end if;
  return webhook_json(w);
end;
$$;

create or replace function delete_webhook(p_id uuid) returns jsonb
language plpgsql volatile as $$
declare v jsonb;
begin
  v := get_webhook(p_id);
  delete from webhooks where id = p_id;
  return v || jsonb_build_object('deleted', true);
end;
$$;

create or replace function webhook_delivery_json(d webhook_deliveries) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', d.id::text, 'webhookId', d.webhook_id, 'messageId', d.message_id, 'eventType', d.event_type,
    'status', d.status, 'attempts', d.attempts, 'nextAttemptAt', case when d.status = 'pending' then d.next_attempt_at end,
    'lastStatus', d.last_status, 'lastError', d.last_error, 'deliveredAt', d.delivered_at, 'createdAt', d.created_at,
    'payload', d.payload);
$$;

create or replace function list_webhook_deliveries(p_webhook_id uuid, p_status text default null, p_limit integer default 100)
returns jsonb language plpgsql stable as $$
begin
  perform get_webhook(p_webhook_id);
  return jsonb_build_object('deliveries', coalesce((
    select jsonb_agg(webhook_delivery_json(t) order by t.id desc)
      from (select * from webhook_deliveries d
             where d.webhook_id = p_webhook_id and (p_status is null or d.status = p_status)
             order by d.id desc limit p_limit) t), '[]'::jsonb));
end;
$$;

-- Queues one delivery per webhook subscribed to the event type.
create or replace function enqueue_webhook_event(p_type text, p_order_key text, p_data jsonb, p_now timestamptz)
returns void language sql volatile as $$
  insert into webhook_deliveries (webhook_id, message_id, event_type, order_key, payload, next_attempt_at, created_at)
  select w.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), p_type, p_order_key,
         jsonb_build_object('type', p_type, 'timestamp', p_now, 'data', p_data), p_now, p_now
    from webhooks w where p_type = any (w.events);
$$;

-- An event becomes final when record_event (or record_soft_event) stores its result.
create or replace function events_to_webhooks() returns trigger
language plpgsql as $$
declare v_lead jsonb;
begin
  if tg_op = 'UPDATE' and old.result is not null then return null; end if;
  if not exists (select 1 from webhooks) then return null; end if;
  select jsonb_build_object('id', l.id::text, 'email', l.email, 'firstName', l.first_name, 'lastName', l.last_name,
                            'companyName', l.company_name, 'status', l.status)
    into v_lead from leads l where l.id = new.lead_id;
  perform enqueue_webhook_event(
    case new.kind when 'soft_bounce' then 'bounce' else new.kind end,
    coalesce('lead:' || new.lead_id, 'event:' || new.id),
    jsonb_build_object('eventId', new.id::text, 'kind', new.kind, 'leadId', new.lead_id::text, 'sendId', new.send_id::text,
                       'sender', new.sender_id, 'email', new.email, 'subject', new.subject, 'text', new.text,
                       'receivedAt', new.received_at,
                       'hard', case when new.kind = 'bounce' then true when new.kind = 'soft_bounce' then false end,
                       'lead', v_lead, 'result', new.result),
    new.created_at);
  return null;
end;
$$;

-- A send given up on (dead) or of unknown outcome (needs_review) is announced too.
create or replace function sends_to_webhooks() returns trigger
language plpgsql as $$
declare v_lead jsonb;
begin
  if not exists (select 1 from webhooks) then return null; end if;
  select jsonb_build_object('id', l.id::text, 'email', l.email, 'firstName', l.first_name, 'lastName', l.last_name,
                            'companyName', l.company_name, 'status', l.status)
    into v_lead from leads l where l.id = new.lead_id;
  perform enqueue_webhook_event(
    case new.status when 'dead' then 'send_failed' else 'needs_review' end,
    'lead:' || new.lead_id,
    jsonb_build_object('sendId', new.id::text, 'leadId', new.lead_id::text, 'step', new.step, 'sender', new.sender_id,
                       'to', new.to_email, 'subject', new.subject, 'status', new.status, 'error', new.last_error,
                       'attempts', new.attempts, 'lead', v_lead),
    new.updated_at);
  return null;
end;
$$;

-- Leases due deliveries: per (webhook, order key) only the oldest pending one,
-- so deliveries about one lead arrive in order even across replicas.
create or replace function claim_webhook_deliveries(p_limit integer, p_lease_seconds integer, p_now timestamptz default now())
returns jsonb language sql volatile as $$
  with due as materialized (
    select d.id from webhook_deliveries d
     where d.status = 'pending' and d.next_attempt_at <= p_now
       and (d.lease_expires_at is null or d.lease_expires_at <= p_now)
       and not exists (select 1 from webhook_deliveries e
                        where e.webhook_id = d.webhook_id and e.order_key = d.order_key
                          and e.status = 'pending' and e.id < d.id)
     order by d.next_attempt_at, d.id
     limit p_limit
     for update skip locked),
  leased as (
    update webhook_deliveries d
       set lease_expires_at = p_now + make_interval(secs => p_lease_seconds), attempts = d.attempts + 1
      from due where d.id = due.id
    returning d.*)
  select jsonb_build_object('deliveries', coalesce(jsonb_agg(jsonb_build_object(
           'id', l.id::text, 'messageId', l.message_id, 'attempt', l.attempts, 'url', w.url, 'secret', w.secret,
           'payload', l.payload, 'createdAt', l.created_at) order by l.id), '[]'::jsonb))
    from leased l join webhooks w on w.id = l.webhook_id;
$$;

-- The outcome of one attempt. A failure is retried with exponential backoff
-- until p_max_attempts, then the delivery is a dead letter (visible in the API).
create or replace function report_webhook_delivery(p_id bigint, p_attempt integer, p_ok boolean, p_status integer,
                                                   p_error text, p_max_attempts integer, p_backoff_seconds integer,
                                                   p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare d webhook_deliveries;
begin
  select * into d from webhook_deliveries where id = p_id for update;
  if not found or d.status <> 'pending' or d.attempts <> p_attempt then
    return jsonb_build_object('recorded', false);
  end if;
  if p_ok then
    update webhook_deliveries set status = 'delivered', delivered_at = p_now, lease_expires_at = null,
                                  last_status = p_status, last_error = null
     where id = p_id;
  elsif d.attempts >= p_max_attempts then
    update webhook_deliveries set status = 'dead', lease_expires_at = null, last_status = p_status,
                                  last_error = left(p_error, 1000)
     where id = p_id;
  else
    update webhook_deliveries
       set lease_expires_at = null, last_status = p_status, last_error = left(p_error, 1000),
           next_attempt_at = p_now + make_interval(secs => p_backoff_seconds * power(2, d.attempts - 1))
     where id = p_id;
  end if;
  return jsonb_build_object('recorded', true);
end;
$$;

-- The outbox rows are written by triggers, in the transaction of the event or send change.
drop trigger if exists events_to_webhooks on events;
create trigger events_to_webhooks after insert or update of result on events
  for each row when (new.result is not null) execute function events_to_webhooks();

drop trigger if exists sends_to_webhooks on sends;
create trigger sends_to_webhooks after update of status on sends
  for each row when (new.status in ('dead', 'needs_review') and old.status is distinct from new.status)
  execute function sends_to_webhooks();
