-- Indexes the status page's reads need (routines/status.sql; measured in
-- bench/status-page.ts with 1M leads, 1M sends and 100k events).
-- get_stats counts a sender's sends and batches of one day: without these it
-- reads every send of every day.
create index if not exists sends_sender_day on sends (sender_id, day);
create index if not exists batches_sender_day on batches (sender_id, day);
-- the last 30 days: sends by the moment they went out, drafts by when they were written
-- (with step: the last 30 days read it from the index alone)
create index if not exists sends_sent_at on sends (sent_at) include (step) where sent_at is not null;
create index if not exists drafts_created on drafts (created_at);

