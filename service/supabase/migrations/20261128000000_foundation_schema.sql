-- Corofy foundation schema: every table the product needs, sketched once.
-- Later migrations add SQL functions and grow these tables; they never rename.
-- Conventions: ids of leads are bigint identities and double as the sequence
-- order (day 1: 1-400, day 2: 401-800); emails and domains are compared lower-case.

create table if not exists senders (
  id              text primary key check (id ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  daily_quota     integer not null default 400 check (daily_quota between 0 and 100000),
  timezone        text not null default 'UTC',
  window_days     text[] not null default '{mon,tue,wed,thu,fri}',
  window_start    time not null default '09:00',
  window_end      time not null default '17:00',
  skip_holidays   boolean not null default true,
  from_name       text,
  from_email      text,
  postal_address  text,
  -- pacing: a minimum gap (plus random jitter) between two sends of this sender
  min_gap_seconds integer not null default 0 check (min_gap_seconds >= 0),
  jitter_seconds  integer not null default 0 check (jitter_seconds >= 0),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);

insert into senders (id) values ('default') on conflict (id) do nothing;

create table if not exists apollo_searches (
  id                  uuid primary key default gen_random_uuid(),
  filters             jsonb not null default '{}'::jsonb,
  total_leads_wanted  integer not null check (total_leads_wanted > 0),
  leads_added         integer not null default 0,
  duplicates_skipped  integer not null default 0,
  suppressed_skipped  integer not null default 0,
  credits_used        integer not null default 0,
  pages_fetched       integer not null default 0,
  exhausted           boolean not null default false,
  status              text not null default 'running'
                      check (status in ('running', 'completed', 'failed')),
  error_code          text,
  error_detail        text,
  created_at          timestamptz not null default now(),
  finished_at         timestamptz
);

-- Every step of a lead's life (claim, compose, gate, send) updates its row. An
-- update that changes no indexed column and finds room on the row's page is HOT:
-- it writes no index entry. So no index on leads names status or the lease, and
-- pages are left half empty: a claim rewrites every row of the pages it touches
-- (400 neighbours), and each new row version must fit beside its old one.
create table if not exists leads (
  id                bigint generated always as identity primary key,
  email             text,
  first_name        text,
  last_name         text,
  title             text,
  company_name      text,
  company_domain    text,
  website           text,
  industry          text,
  country           text,          -- ISO 3166 alpha-2 when known
  state             text,
  city              text,
  timezone          text,          -- as given (IANA), before resolution
  linkedin_url      text,
  external_id       text,
  apollo_id         text,
  search_id         uuid references apollo_searches (id),
  status            text not null default 'new' check (status in (
                      'new', 'claimed', 'composed', 'scheduled', 'sending', 'sent',
                      'skipped', 'dead', 'needs_review', 'replied', 'bounced',
                      'unsubscribed', 'complained')),
  status_reason     text,          -- why a lead was skipped, dead or needs review
  batch_id          uuid,
  claimed_at        timestamptz,
  lease_expires_at  timestamptz,   -- a claim not composed by then returns to 'new'
  resolved_timezone text,
  timezone_source   text,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now()
) with (fillfactor = 50);

create unique index if not exists leads_email_key on leads (lower(email));
-- Partial: most leads have only one of the two ids; a lead without the id costs
-- these indexes nothing. (The claim finds new leads through lead_queue and the
-- sweeper finds expired claims through batches: see the batches migration.)
create unique index if not exists leads_external_id_key on leads (external_id) where external_id is not null;
create unique index if not exists leads_apollo_id_key on leads (apollo_id) where apollo_id is not null;

-- One row per claimed batch. The same (sender, idempotency key) is the same batch.
create table if not exists batches (
  id               uuid primary key default gen_random_uuid(),
  sender_id        text not null references senders (id),
  day              date not null,      -- sender-local day the batch counts against
  idempotency_key  text,
  size_requested   integer,
  lead_ids         bigint[] not null default '{}',
  created_at       timestamptz not null default now(),
  unique (sender_id, idempotency_key)
);

-- The quota ledger: one row per sender and sender-local day, locked FOR UPDATE
-- by every operation that assigns or releases work on that day.
create table if not exists sender_days (
  sender_id  text not null references senders (id),
  day        date not null,
  quota      integer not null,
  claimed    integer not null default 0 check (claimed >= 0),   -- claimed for the day, not yet scheduled
  scheduled  integer not null default 0 check (scheduled >= 0), -- scheduled for the day (incl. sending)
  sent       integer not null default 0 check (sent >= 0),
  primary key (sender_id, day),
  check (claimed + scheduled + sent <= quota)
);

-- The composed email of a lead for one sequence step.
create table if not exists drafts (
  lead_id     bigint not null references leads (id),
  step        integer not null default 1 check (step >= 1),
  subject     text not null,
  text        text not null,
  html        text not null,
  product     text,
  source      text not null check (source in ('catalog', 'website', 'generic')),
  model       text,
  created_at  timestamptz not null default now(),
  primary key (lead_id, step)
);

-- One row per lead and sequence step: at most once is a unique constraint.
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
  sent_at           timestamptz,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  unique (lead_id, step)
);

create unique index if not exists sends_message_id_key on sends (message_id);
create index if not exists sends_due on sends (sender_id, send_at) where status = 'scheduled';
create index if not exists sends_lease on sends (lease_expires_at) where status = 'sending';

-- Replies, bounces, complaints and unsubscribes as they arrived.
create table if not exists events (
  id           bigint generated always as identity primary key,
  kind         text not null check (kind in ('reply', 'bounce', 'complaint', 'unsubscribe')),
  dedupe_key   text not null unique,  -- the same event twice is recorded once
  lead_id      bigint references leads (id),
  email        text,
  message_id   text,
  in_reply_to  text,
  subject      text,
  text         text,
  received_at  timestamptz not null default now(),
  created_at   timestamptz not null default now()
);

-- Addresses and whole domains nothing is ever sent to.
create table if not exists suppressions (
  value       text primary key check (value = lower(value)),
  kind        text not null check (kind in ('email', 'domain')),
  reason      text not null,
  created_at  timestamptz not null default now()
);

-- Scraped company websites, cached per domain.
create table if not exists company_websites (
  domain       text primary key,
  url          text not null,
  title        text,
  markdown     text,
  status_code  integer,
  error        text,
  scraped_at   timestamptz not null default now(),
  expires_at   timestamptz not null
);

-- The product catalog the composer pitches from.
create table if not exists products (
  id          text primary key,
  position    integer not null default 0,
  industries  text[] not null default '{}',
  keywords    text[] not null default '{}',
  product     text not null,
  pitch       text not null,
  updated_at  timestamptz not null default now()
);

-- Small service-wide settings (e.g. the unsubscribe signing secret).
create table if not exists service_settings (
  name        text primary key,
  value       text not null,
  created_at  timestamptz not null default now()
);

-- Which migrations this database has: the service compares it with its own
-- list at start and refuses to run a database that is behind.
create or replace function corofy_schema_state() returns jsonb
language sql stable security definer set search_path = public, pg_temp as $$
  select jsonb_build_object(
    'versions', coalesce((select jsonb_agg(version order by version)
                          from supabase_migrations.schema_migrations), '[]'::jsonb));
$$;
