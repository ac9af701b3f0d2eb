-- The IMAP watcher: which replica watches which mailbox (a lease), where each
-- folder was read up to (UIDVALIDITY + last UID), and the mailbox's health.

create table if not exists mailbox_watch (
  sender_id         text primary key references senders (id) on delete cascade,
  holder            text,             -- the replica watching it
  lease_expires_at  timestamptz,      -- renewed while watching; another replica takes over after it
  connected         boolean not null default false,
  last_message_at   timestamptz,      -- the last message read from the mailbox
  last_error        text,
  last_error_at     timestamptz,
  updated_at        timestamptz not null default now()
);
alter table mailbox_watch enable row level security;

create table if not exists mailbox_folders (
  sender_id     text not null references senders (id) on delete cascade,
  folder        text not null,
  uid_validity  numeric(20) not null,
  last_uid      bigint not null default 0,
  updated_at    timestamptz not null default now(),
  primary key (sender_id, folder)
);
alter table mailbox_folders enable row level security;
