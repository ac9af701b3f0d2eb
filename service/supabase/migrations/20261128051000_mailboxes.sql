-- Mailboxes: how each sender's email leaves (delivery 'n8n' or 'corofy') and
-- the sender's own SMTP and IMAP settings. Secrets arrive sealed by the service
-- (AES-256-GCM, COROFY_SECRET_KEY) and are stored as they came: the database never
-- sees a password or a token in clear, and no function here returns one except
-- mailbox_settings, which the service opens itself.

create table if not exists mailboxes (
  sender_id          text primary key references senders (id) on delete cascade,
  delivery           text not null default 'n8n' check (delivery in ('n8n', 'corofy')),
  -- { host, port, tls: implicit|starttls|none, user, oauth2: { clientId, tokenUrl } | null }
  smtp               jsonb,
  imap               jsonb,
  -- "smtp.password", "smtp.oauth2.clientSecret", "smtp.oauth2.refreshToken", "imap.…" → sealed text
  secrets            jsonb not null default '{}'::jsonb,
  unsubscribe_email  text,
  -- sending stops while paused (authentication refused, health); only a person resumes it
  paused_at          timestamptz,
  paused_code        text,
  paused_reason      text,
  updated_at         timestamptz not null default now()
);

alter table mailboxes enable row level security;
