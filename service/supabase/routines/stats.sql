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
    'quota', coalesce(led.quota, s.daily_quota),
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
    'remaining', greatest(coalesce(led.quota - led.claimed - led.scheduled - led.sent, s.daily_quota), 0),
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
