-- Stats: the ledger and the sends of one sender-local day.

create or replace function get_stats(p_sender text, p_day date default null, p_now timestamptz default now()) returns jsonb
language plpgsql stable as $$
declare
  s senders;
  v_day date;
  v_from timestamptz;
  v_to timestamptz;
  led sender_days;
  r jsonb;
begin
  s := sender_or_raise(p_sender);
  v_day := coalesce(p_day, (p_now at time zone s.timezone)::date);
  v_from := v_day::timestamp at time zone s.timezone;
  v_to := (v_day + 1)::timestamp at time zone s.timezone;
  select * into led from sender_days where sender_id = s.id and day = v_day;

  with sc as (
    select count(*) filter (where status = 'scheduled') as scheduled,
           count(*) filter (where status = 'sending') as sending,
           count(*) filter (where status = 'sent') as sent,
           count(*) filter (where status = 'failed') as failed,
           count(*) filter (where status = 'dead') as dead,
           count(*) filter (where status = 'needs_review') as needs_review,
           count(*) filter (where status = 'cancelled') as cancelled
      from sends where sender_id = s.id and day = v_day
  ), ev as (
    -- an event counts for the sender whose email it answers (events.sender_id,
    -- set when it was recorded; an event about no lead of ours counts for none)
    select count(*) filter (where e.kind = 'reply') as replied,
           count(*) filter (where e.kind = 'bounce') as bounced,
           count(*) filter (where e.kind = 'unsubscribe') as unsubscribed,
           count(*) filter (where e.kind = 'complaint') as complained
      from events e
     where e.sender_id = s.id and e.received_at >= v_from and e.received_at < v_to
  )
  select jsonb_build_object(
    'sender', s.id,
    'day', to_char(v_day, 'YYYY-MM-DD'),
    'quota', coalesce(led.quota, sender_effective_limit(s, v_day)),
    'claimed', coalesce(led.claimed, 0),
    'scheduled', sc.scheduled,
    'sending', sc.sending,
    'sent', sc.sent,
    'failed', sc.failed,
    'dead', sc.dead,
    'needsReview', sc.needs_review,
    'cancelled', sc.cancelled,
    'replied', ev.replied,
    'bounced', ev.bounced,
    'unsubscribed', ev.unsubscribed,
    'complained', ev.complained,
    'used', coalesce(led.claimed + led.scheduled + led.sent, 0),
    'remaining', greatest(coalesce(led.quota - led.claimed - led.scheduled - led.sent, sender_effective_limit(s, v_day)), 0),
    'batchedLeads', coalesce((select sum(cardinality(lead_ids)) from batches where sender_id = s.id and day = v_day), 0),
    -- per sequence step: sent on the day (counted on it), and the replies and
    -- bounces received on the day to a send of that step
    'steps', (select coalesce(jsonb_agg(jsonb_build_object(
                'step', t.step, 'sent', t.sent, 'replied', t.replied, 'bounced', t.bounced,
                'replyRate', case when t.sent > 0 then round(t.replied::numeric / t.sent, 4) end) order by t.step), '[]'::jsonb)
                from (select st.step, coalesce(sn.sent, 0) as sent, coalesce(ev.replied, 0) as replied, coalesce(ev.bounced, 0) as bounced
                        from (select x.step from sends x where x.sender_id = s.id and x.day = v_day and x.status = 'sent'
                              union
                              select y.step from events e join sends y on y.id = e.send_id
                               where e.sender_id = s.id and e.received_at >= v_from and e.received_at < v_to) st
                        left join (select x.step, count(*) as sent from sends x
                                    where x.sender_id = s.id and x.day = v_day and x.status = 'sent' group by x.step) sn on sn.step = st.step
                        left join (select y.step, count(*) filter (where e.kind = 'reply') as replied,
                                          count(*) filter (where e.kind = 'bounce') as bounced
                                     from events e join sends y on y.id = e.send_id
                                    where e.sender_id = s.id and e.received_at >= v_from and e.received_at < v_to
                                    group by y.step) ev on ev.step = st.step) t),
    'apolloCreditsUsed', coalesce((select sum(credits_used) from apollo_searches
                                   where created_at >= v_from and created_at < v_to), 0))
  into r from sc, ev;
  return r;
end;
$$;

-- ---------------------------------------------------------------------------
-- The daily rollup (status_days, see its migration): kept in the same
-- transaction as every write to sends, events and a sender's time zone.

-- THE one change of a rollup row: adds (or, negative, takes away) counts.
-- Callers hold the (sender, day) ledger row when they mark a send sent (the
-- global lock order), so two writers meet on a rollup row in the same order.
create or replace function status_days_add(p_sender text, p_day date, p_step integer, p_sent integer,
                                           p_replies integer, p_bounces integer, p_complaints integer,
                                           p_unsubscribes integer) returns void
language sql volatile as $$
  insert into status_days as d (day, sender_id, step, sent, replies, bounces, complaints, unsubscribes)
  values (p_day, p_sender, p_step, p_sent, p_replies, p_bounces, p_complaints, p_unsubscribes)
  on conflict (day, sender_id, step) do update
    set sent = d.sent + excluded.sent, replies = d.replies + excluded.replies,
        bounces = d.bounces + excluded.bounces, complaints = d.complaints + excluded.complaints,
        unsubscribes = d.unsubscribes + excluded.unsubscribes;
$$;

-- An event counts for its sender (none: it answers no lead of ours, as in
-- get_stats) on the sender-local day it was received, under the step of the
-- send it answers (0 when it matched the lead but none of its sends).
create or replace function status_days_add_event(e events, p_sign integer) returns void
language plpgsql volatile as $$
begin
  if e.sender_id is null then return; end if;
  perform status_days_add(e.sender_id, (e.received_at at time zone s.timezone)::date,
                          coalesce((select m.step from sends m where m.id = e.send_id), 0), 0,
                          p_sign * (e.kind = 'reply')::integer, p_sign * (e.kind = 'bounce')::integer,
                          p_sign * (e.kind = 'complaint')::integer, p_sign * (e.kind = 'unsubscribe')::integer)
     from senders s where s.id = e.sender_id;
end;
$$;

-- Inserts: one statement-level trigger per table (a bulk insert counts in one
-- pass, in a fixed order); updates and deletes: a row trigger, only when the row
-- moves in or out of what is counted.
create or replace function status_days_sends_inserted() returns trigger
language plpgsql as $$
begin
  perform status_days_add(sender_id, day, step, n::integer, 0, 0, 0, 0)
     from (select sender_id, day, step, count(*) as n from inserted_sends where status = 'sent'
            group by 1, 2, 3 order by 2, 1, 3) t;
  return null;
end;
$$;

create or replace function status_days_sends_changed() returns trigger
language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') and old.status = 'sent' then
    perform status_days_add(old.sender_id, old.day, old.step, -1, 0, 0, 0, 0);
  end if;
  if tg_op = 'UPDATE' and new.status = 'sent' then
    perform status_days_add(new.sender_id, new.day, new.step, 1, 0, 0, 0, 0);
  end if;
  return null;
end;
$$;

create or replace function status_days_events_inserted() returns trigger
language plpgsql as $$
begin
  perform status_days_add(t.sender_id, t.day, t.step, 0, t.replies::integer, t.bounces::integer,
                          t.complaints::integer, t.unsubscribes::integer)
     from (select e.sender_id, (e.received_at at time zone s.timezone)::date as day, coalesce(m.step, 0) as step,
                  count(*) filter (where e.kind = 'reply') as replies, count(*) filter (where e.kind = 'bounce') as bounces,
                  count(*) filter (where e.kind = 'complaint') as complaints,
                  count(*) filter (where e.kind = 'unsubscribe') as unsubscribes
             from inserted_events e join senders s on s.id = e.sender_id left join sends m on m.id = e.send_id
            group by 1, 2, 3 order by 2, 1, 3) t;
  return null;
end;
$$;

create or replace function status_days_events_changed() returns trigger
language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then perform status_days_add_event(old, -1); end if;
  if tg_op = 'UPDATE' then perform status_days_add_event(new, 1); end if;
  return null;
end;
$$;

-- A sender's new time zone moves its events to other local days (as GET
-- /v1/stats counts them from now on): its event counts are made again.
create or replace function status_days_sender_rezoned() returns trigger
language plpgsql as $$
begin
  update status_days set replies = 0, bounces = 0, complaints = 0, unsubscribes = 0 where sender_id = new.id;
  perform status_days_add(t.sender_id, t.day, t.step, 0, t.replies::integer, t.bounces::integer,
                          t.complaints::integer, t.unsubscribes::integer)
     from (select e.sender_id, (e.received_at at time zone new.timezone)::date as day, coalesce(m.step, 0) as step,
                  count(*) filter (where e.kind = 'reply') as replies, count(*) filter (where e.kind = 'bounce') as bounces,
                  count(*) filter (where e.kind = 'complaint') as complaints,
                  count(*) filter (where e.kind = 'unsubscribe') as unsubscribes
             from events e left join sends m on m.id = e.send_id
            where e.sender_id = new.id
            group by 1, 2, 3 order by 2, 1, 3) t;
  return null;
end;
$$;

drop trigger if exists status_days_on_send_insert on sends;
create trigger status_days_on_send_insert after insert on sends
  referencing new table as inserted_sends for each statement execute function status_days_sends_inserted();
drop trigger if exists status_days_on_send_update on sends;
create trigger status_days_on_send_update after update of status, sender_id, day, step on sends
  for each row when ((old.status = 'sent' or new.status = 'sent')
                     and (old.status, old.sender_id, old.day, old.step) is distinct from (new.status, new.sender_id, new.day, new.step))
  execute function status_days_sends_changed();
drop trigger if exists status_days_on_send_delete on sends;
create trigger status_days_on_send_delete after delete on sends
  for each row when (old.status = 'sent') execute function status_days_sends_changed();

drop trigger if exists status_days_on_event_insert on events;
create trigger status_days_on_event_insert after insert on events
  referencing new table as inserted_events for each statement execute function status_days_events_inserted();
drop trigger if exists status_days_on_event_update on events;
create trigger status_days_on_event_update after update of sender_id, send_id, kind, received_at on events
  for each row when ((old.sender_id, old.send_id, old.kind, old.received_at)
                     is distinct from (new.sender_id, new.send_id, new.kind, new.received_at))
  execute function status_days_events_changed();
drop trigger if exists status_days_on_event_delete on events;
create trigger status_days_on_event_delete after delete on events
  for each row when (old.sender_id is not null) execute function status_days_events_changed();

drop trigger if exists status_days_on_sender_timezone on senders;
create trigger status_days_on_sender_timezone after update of timezone on senders
  for each row when (old.timezone is distinct from new.timezone) execute function status_days_sender_rezoned();
