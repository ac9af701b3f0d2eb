-- The status page's daily rollup: per sender, sender-local day and sequence step,
-- what went out and what came back. The last 30 days read a few hundred of these
-- rows instead of every send and event of the period (1M sends: 0.4 s → a few ms).
--
-- Kept exact in the same transaction as the write, by triggers on sends, events
-- and senders (routines/stats.sql, status_days_add is the one function that
-- changes a row): whichever function marks a send sent or records an event (the
-- n8n report, the dispatcher, the sweeper, the inbound classifier, tomorrow's
-- ones) counts here without knowing it. The days are GET /v1/stats's days: a
-- send counts on the day it was assigned (sends.day), an event on the sender-local
-- day it was received, so a row sums to what GET /v1/stats says for that
-- sender and day. OpenAI tokens per day are compose_usage's (kept by compose in
-- its own transaction); Apollo credits are apollo_searches' (one row per search,
-- not per sender).

create table if not exists status_days (
  day           date not null,
  sender_id     text not null references senders (id),
  -- the sequence step of the send; 0: an event matched to a lead of the sender but to none of its sends
  step          integer not null check (step >= 0),
  sent          integer not null default 0 check (sent >= 0),
  replies       integer not null default 0 check (replies >= 0),
  bounces       integer not null default 0 check (bounces >= 0),
  complaints    integer not null default 0 check (complaints >= 0),
  unsubscribes  integer not null default 0 check (unsubscribes >= 0),
  primary key (day, sender_id, step)
);

alter table status_days enable row level security;
