-- Sends: one row per lead and sequence step, so at most once is a unique constraint.
-- scheduled → sending (leased) → sent | failed → (retry → scheduled) | dead;
-- sending with its lease expired → needs_review; cancelled when the lead stops.

create table if not exists sends (
  id                bigint generated always as identity primary key,
  lead_id           bigint not null references leads (id),
  step              integer not null default 1 check (step >= 1),
  sender_id         text not null references senders (id),
  day               date not null,       -- the sender-local day it counts against
  status            text not null check (status in (
                      'scheduled', 'sending', 'sent', 'failed', 'dead', 'needs_review', 'cancelled')),
  to_email          text not null,
  subject           text not null,
  text              text not null,
  html              text not null,
  timezone          text not null,
  timezone_source   text not null,
  send_at           timestamptz not null,
  window_end        timestamptz,         -- the recipient's window closes then
  lease_expires_at  timestamptz,
  attempts          integer not null default 0,
  last_error        text,
  message_id        text,
  smtp_response     text,                -- the mailbox server's answer (corofy delivery)
  sent_at           timestamptz,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  -- a human retry keeps attempt numbers unique (they go on counting) and starts
  -- a fresh retry budget from here
  retry_base        integer not null default 0,
  -- the key of the request that last handed this send out (gate or claim-due):
  -- a repeat of that request gets the send back; a later hand-out replaces it,
  -- so a late repeat never gets a send someone else holds now
  lease_key         text,
  unique (lead_id, step)
);

create unique index if not exists sends_message_id_key on sends (message_id);
create index if not exists sends_due on sends (sender_id, send_at) where status = 'scheduled';
create index if not exists sends_lease on sends (lease_expires_at) where status = 'sending';
-- claim-due scans pending sends (scheduled, or failed and waiting for a retry) by time
create index if not exists sends_pending_due on sends (send_at) where status in ('scheduled', 'failed');
create index if not exists sends_pending_window on sends (window_end) where status in ('scheduled', 'failed');
create index if not exists sends_lead on sends (lead_id);
create index if not exists sends_status_updated on sends (status, updated_at desc, id desc);
-- pacing looks up a sender's sends around an instant
create index if not exists sends_sender_send_at on sends (sender_id, send_at);
-- the status page and stats: a sender's sends of one day; the last 30 days by when they went out
create index if not exists sends_sender_day on sends (sender_id, day);
create index if not exists sends_sent_at on sends (sent_at) include (step) where sent_at is not null;
create index if not exists sends_lease_key on sends (lease_key) where lease_key is not null;
