-- Indexes the status page's reads need (routines/status.sql; measured in
-- bench/status-page.ts with 1M leads, 1M sends and 100k events).
-- get_stats counts a sender's sends (by status) and batches of one day: without
-- these it reads every send of every day; with status in the index, from it alone.
create index if not exists sends_sender_day on sends (sender_id, day) include (status);
create index if not exists batches_sender_day on batches (sender_id, day);
-- today's drafts by source, by when they were written (the last 30 days read status_days instead)
create index if not exists drafts_created on drafts (created_at) include (source);
-- the queue panel: the next 24 hours per hour and recipient time zone, from the index alone
create index if not exists sends_queue on sends (send_at) include (timezone) where status in ('scheduled', 'failed');
