-- The status page's reads and the start-up check of senders. Reads are STABLE
-- functions, one per panel, each answering from an index (see the status
-- migration). The aggregating ones run with jit off: compiling a plan costs tens
-- to hundreds of milliseconds, worth it for long analytics, never for a page.

-- Senders whose emails would go out without a sender name or a postal address
-- (CAN-SPAM needs both): the service warns about each at start.
create or replace function senders_missing_compose_fields() returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'fromName', from_name, 'postalAddress', postal_address)
                            order by id), '[]'::jsonb)
    from senders
   where coalesce(trim(from_name), '') = '' or coalesce(trim(postal_address), '') = '';
$$;

-- The day the page calls "today": the default sender's local day (UTC without one).
create or replace function status_day_zone() returns text
language sql stable as $$
  select coalesce((select timezone from senders where id = 'default'), 'UTC');
$$;

-- Today, per sender (GET /v1/stats for each sender's own local day, so the page
-- shows exactly what the API says) and for the whole pool: searched, composed by source.
create or replace function status_today(p_now timestamptz default now()) returns jsonb
language plpgsql stable set jit = off as $$
declare
  v_tz text := status_day_zone();
  v_day date := (p_now at time zone v_tz)::date;
  v_from timestamptz := v_day::timestamp at time zone v_tz;
  v_to timestamptz := (v_day + 1)::timestamp at time zone v_tz;
begin
  return jsonb_build_object(
    'day', to_char(v_day, 'YYYY-MM-DD'),
    'timezone', v_tz,
    'senders', coalesce((
      -- limit/used/left: GET /v1/stats's (its quota is the day's effective limit);
      -- paused, health and ramp: GET /v1/senders/{id}'s (null where not tracked)
      select jsonb_agg(get_stats(s.id, (p_now at time zone s.timezone)::date)
                       || jsonb_build_object('fromName', s.from_name, 'fromEmail', s.from_email,
                                             'timezone', s.timezone, 'postalAddress', s.postal_address,
                                             'dailyQuota', s.daily_quota, 'delivery', v.view->'delivery',
                                             'paused', v.view->'paused', 'health', v.view->'health',
                                             'ramp', v.view->'rampUp')
                       order by s.id)
        from senders s cross join lateral (select sender_view(s.id) as view) v), '[]'::jsonb),
    'searched', (
      select jsonb_build_object('searches', count(*), 'leadsAdded', coalesce(sum(leads_added), 0),
                                'creditsUsed', coalesce(sum(credits_used), 0))
        from apollo_searches where created_at >= v_from and created_at < v_to),
    'composed', (
      select jsonb_build_object('catalog', count(*) filter (where source = 'catalog'),
                                'website', count(*) filter (where source = 'website'),
                                'generic', count(*) filter (where source = 'generic'))
        from drafts where created_at >= v_from and created_at < v_to));
end;
$$;

-- The queue: sends waiting to go out in the next 24 hours, per hour and the
-- recipient's time zone (overdue ones count in the current hour).
create or replace function status_queue(p_now timestamptz default now()) returns jsonb
language sql stable set jit = off as $$
  select jsonb_build_object(
    'from', date_trunc('hour', p_now),
    'hours', coalesce(jsonb_agg(jsonb_build_object('hour', t.hour, 'timezone', t.timezone, 'count', t.n)
                                order by t.hour, t.timezone), '[]'::jsonb))
  from (select greatest(date_trunc('hour', send_at), date_trunc('hour', p_now)) as hour, timezone, count(*) as n
          from sends
         where status in ('scheduled', 'failed') and send_at < p_now + interval '24 hours'
         group by 1, 2) t;
$$;

-- The latest replies, bounces, complaints and unsubscribes, with a snippet.
-- plpgsql, not sql: its statements get plans for the actual limit, so the newest
-- rows come from the index instead of a sort of every event.
create or replace function status_events(p_limit integer default 20) returns jsonb
language plpgsql stable as $$
begin
  return (
    select coalesce(jsonb_agg(jsonb_build_object(
             'id', e.id::text, 'kind', e.kind, 'email', coalesce(e.email, l.email), 'leadId', e.lead_id::text,
             'sender', e.sender_id, 'subject', e.subject,
             'snippet', left(regexp_replace(coalesce(e.text, ''), '\s+', ' ', 'g'), 160),
             'receivedAt', e.received_at) order by e.received_at desc, e.id desc), '[]'::jsonb)
      from (select * from events order by received_at desc, id desc limit p_limit) e
      left join leads l on l.id = e.lead_id);
end;
$$;

-- Dead letters or needs_review, newest change first: what GET /v1/sends?status=
-- lists, from the (status, updated_at, id) index whatever the number of sends.
create or replace function status_sends(p_status text, p_limit integer default 50) returns jsonb
language plpgsql stable as $$
begin
  return (
    select coalesce(jsonb_agg(send_json(t) order by t.updated_at desc, t.id desc), '[]'::jsonb)
      from (select * from sends where status = p_status order by updated_at desc, id desc limit p_limit) t);
end;
$$;

-- The last p_days days: sent, replies, bounces, complaints and unsubscribes per
-- day and the reply rate of each sequence step, from the daily rollup
-- (status_days: each sender's own days, as GET /v1/stats counts them, summed
-- over the senders); OpenAI tokens per day from compose_usage (sender-local days
-- too); Apollo credits per day of the page's day zone (a search has no sender).
create or replace function status_history(p_now timestamptz default now(), p_days integer default 30) returns jsonb
language plpgsql stable set jit = off as $$
declare
  v_tz text := status_day_zone();
  v_last date := (p_now at time zone v_tz)::date;
  v_first date := v_last - (p_days - 1);
begin
  return (
    with rollup as (
      select * from status_days where day between v_first and v_last
    ), per_day as (
      select day, sum(sent) as sent, sum(replies) as replies, sum(bounces) as bounces,
             sum(complaints) as complaints, sum(unsubscribes) as unsubscribes
        from rollup group by day
    ), steps as (
      select step, sum(sent) as sent, sum(replies) as replies from rollup where step > 0 group by step
    ), tokens as (
      select day, sum(prompt_tokens + completion_tokens) as n from compose_usage
       where day between v_first and v_last group by day
    ), credits as (
      select (created_at at time zone v_tz)::date as day, sum(credits_used) as n
        from apollo_searches
       where created_at >= v_first::timestamp at time zone v_tz and created_at < (v_last + 1)::timestamp at time zone v_tz
       group by 1
    )
    select jsonb_build_object(
      'timezone', v_tz,
      'days', (
        select jsonb_agg(jsonb_build_object(
                 'day', to_char(gd.d, 'YYYY-MM-DD'), 'sent', coalesce(p.sent, 0), 'replies', coalesce(p.replies, 0),
                 'bounces', coalesce(p.bounces, 0), 'complaints', coalesce(p.complaints, 0),
                 'unsubscribes', coalesce(p.unsubscribes, 0), 'apolloCredits', coalesce(c.n, 0),
                 'openaiTokens', coalesce(t.n, 0)) order by gd.d)
          from (select g::date as d from generate_series(v_first::timestamp, v_last::timestamp, interval '1 day') g) gd
          left join per_day p on p.day = gd.d left join credits c on c.day = gd.d left join tokens t on t.day = gd.d),
      'steps', (
        select coalesce(jsonb_agg(jsonb_build_object('step', step, 'sent', sent, 'replies', replies) order by step), '[]'::jsonb)
          from steps)));
end;
$$;
