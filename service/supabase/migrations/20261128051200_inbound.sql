-- Inbound mail: every message the service reads (IMAP watcher, POST /v1/inbound)
-- is recorded once by its Message-ID, matched to our sends and leads, and turned
-- into events through record_event, the same function POST /v1/events calls.


create table if not exists inbound_messages (
  message_key  text primary key,          -- the Message-ID, or sha256 of the raw message without one
  sender_id    text references senders (id),
  kind         text not null check (kind in ('reply', 'auto_reply', 'bounce', 'complaint', 'unsubscribe', 'other')),
  lead_id      bigint references leads (id),
  send_id      bigint references sends (id),
  from_email   text,
  subject      text,
  result       jsonb not null,
  received_at  timestamptz,
  created_at   timestamptz not null default now()
);
create index if not exists inbound_messages_sender_created on inbound_messages (sender_id, created_at);
alter table inbound_messages enable row level security;
