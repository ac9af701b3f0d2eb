-- Replies, bounces, complaints and unsubscribes as they arrived.

create table if not exists events (
  id           bigint generated always as identity primary key,
  kind         text not null check (kind in ('reply', 'bounce', 'complaint', 'unsubscribe', 'auto_reply', 'soft_bounce')),
                               -- auto-replies and soft bounces are recorded (they notify and count
                               -- against a mailbox's health) but never stop a lead or suppress an address
  dedupe_key   text not null unique,  -- the same event twice is recorded once
  lead_id      bigint references leads (id),
  email        text,
  message_id   text,
  in_reply_to  text,
  subject      text,
  text         text,
  received_at  timestamptz not null default now(),
  created_at   timestamptz not null default now(),
  result       jsonb,                 -- the first answer, returned again for a duplicate
  send_id      bigint references sends (id),
  -- the sender whose email the event answers (stats count it for that sender):
  -- the send it was matched to, else the lead's latest send, else the batch that
  -- claimed the lead; null for an event about no lead of ours
  sender_id    text references senders (id)
);

create index if not exists events_received on events (received_at);
create index if not exists events_sender_received on events (sender_id, received_at);
