-- What the service last saw of each sender's mailbox, for its health in
-- GET /v1/senders/:id: the last verify of each server (POST /v1/senders/:id/verify)
-- and the last SMTP transaction of the dispatcher that did not end in a 250.
-- (The IMAP watcher's own state is in mailbox_watch; a pause is on mailboxes.)

create table if not exists mailbox_activity (
  sender_id             text primary key references senders (id) on delete cascade,
  -- the last verify of the SMTP and of the IMAP server: when, and the problem's code and detail if it failed
  smtp_verified_at      timestamptz,
  smtp_verify_code      text,
  smtp_verify_detail    text,
  imap_verified_at      timestamptz,
  imap_verify_code      text,
  imap_verify_detail    text,
  -- the last SMTP transaction of the dispatcher that failed (retry, bounce, rejected, needs_review)
  smtp_error_at         timestamptz,
  smtp_error_kind       text,
  smtp_error            text,
  smtp_error_send_id    bigint,
  updated_at            timestamptz not null default now()
);

alter table mailbox_activity enable row level security;
