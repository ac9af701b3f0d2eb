-- Mailbox health: hard bounces and complaints per mailbox over a rolling
-- window; a mailbox past a threshold is paused (pause_mailbox) in the
-- transaction of the event that crossed it, and only a person resumes it.
--
-- The thresholds (the market's): more than 3 % hard bounces in the mailbox's
-- last 200 sends (more than 6 of them: a young mailbox is judged on the same
-- count, not on a percentage of its first few sends), or two complaints within
-- a day. Counted from the last resume (mailboxes.health_since).

-- THE rule of whether a sender's mailbox is paused (health, authentication):
-- a paused mailbox gets no room in its pool, no claim, no send at the gate,
-- no due send, and the dispatcher sends nothing from it.
create or replace function mailbox_paused(p_sender text) returns boolean
language plpgsql stable as $$
begin
  return exists (select 1 from mailboxes where sender_id = p_sender and paused_at is not null);
end;
$$;

-- The pause codes health gives (an authentication pause has the dispatcher's codes).
create or replace function mailbox_health_code(p_code text) returns boolean
language sql immutable as $$
  select coalesce(p_code in ('hard_bounces', 'complaints'), false);
$$;

-- What GET /v1/senders/:id shows under "health", and what the check reads.
create or replace function mailbox_health_json(p_sender text, p_now timestamptz) returns jsonb
language plpgsql stable as $$
declare
  m mailboxes;
  v_window constant integer := 200;
  v_bounce_percent constant integer := 3;
  v_complaints_per_day constant integer := 2;
  v_sends integer;
  v_bounces integer;
  v_complaints integer;
begin
  select * into m from mailboxes where sender_id = p_sender;
  -- the last sends that left (or hard-bounced at the SMTP dialogue), and how many of their leads bounced hard
  select count(*), count(*) filter (where l.status = 'bounced') into v_sends, v_bounces
    from (select s.lead_id from sends s
           where s.sender_id = p_sender and s.status in ('sent', 'dead')
             and (m.health_since is null or s.send_at > m.health_since)
           order by s.send_at desc limit v_window) last
    join leads l on l.id = last.lead_id;
  select count(*) into v_complaints from events e
   where e.sender_id = p_sender and e.kind = 'complaint'
     and e.received_at > greatest(p_now - interval '1 day', coalesce(m.health_since, '-infinity'));
  return jsonb_build_object(
    'status', case when m.paused_at is not null then 'paused' else 'ok' end,
    'paused', case when m.paused_at is null then null else jsonb_build_object(
      'at', m.paused_at, 'code', m.paused_code, 'reason', m.paused_reason) end,
    'hardBounces', jsonb_build_object('count', v_bounces, 'ofLastSends', v_sends, 'window', v_window,
                                      'pauseAbove', v_window * v_bounce_percent / 100),
    'complaints', jsonb_build_object('last24h', v_complaints, 'pauseAt', v_complaints_per_day),
    'since', m.health_since);
end;
$$;

-- Checks one mailbox after a hard bounce or a complaint of its own, and pauses
-- it when it crossed a threshold. Returns whether it paused it now.
create or replace function mailbox_health_check(p_sender text, p_now timestamptz) returns boolean
language plpgsql volatile as $$
declare
  h jsonb;
begin
  if p_sender is null then
    return false;
  end if;
  -- Checks of one mailbox take turns on its row: seven bounces recorded at once
  -- each see the others once they committed, so a burst cannot slip under the line.
  insert into mailboxes (sender_id) values (p_sender) on conflict (sender_id) do nothing;
  perform 1 from mailboxes where sender_id = p_sender for update;
  if mailbox_paused(p_sender) then
    return false;
  end if;
  h := mailbox_health_json(p_sender, p_now);
  if (h->'hardBounces'->>'count')::integer > (h->'hardBounces'->>'pauseAbove')::integer then
    perform pause_mailbox(p_sender, 'hard_bounces',
      format('%s hard bounces in the last %s sends (more than %s%% of %s): the list or the mailbox needs a look before it sends again.',
             h->'hardBounces'->>'count', h->'hardBounces'->>'ofLastSends', 3, h->'hardBounces'->>'window'), p_now);
    return true;
  end if;
  if (h->'complaints'->>'last24h')::integer >= (h->'complaints'->>'pauseAt')::integer then
    perform pause_mailbox(p_sender, 'complaints',
      format('%s spam complaints within a day: recipients are marking this mailbox''s email as spam.',
             h->'complaints'->>'last24h'), p_now);
    return true;
  end if;
  return false;
end;
$$;
