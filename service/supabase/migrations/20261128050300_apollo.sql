-- Apollo search: the credit saver's bookkeeping. Every search is recorded as it
-- goes, so a search that fails half-way still says what it spent and added.

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
  finished_at         timestamptz,
  matches_requested   integer not null default 0,
  match_calls         integer not null default 0,
  no_email_skipped    integer not null default 0,
  total_entries       integer,
  -- the caller's key: one search however often it is sent (see apollo_search_begin)
  idempotency_key     text
);

create index if not exists apollo_searches_created on apollo_searches (created_at desc);
create unique index if not exists apollo_searches_idempotency_key
  on apollo_searches (idempotency_key) where idempotency_key is not null;

-- Apollo ids a running search is about to pay for. A row of a search that is
-- no longer running (or older than 15 minutes: a crashed process) is free to take.
create table if not exists apollo_reservations (
  apollo_id    text primary key,
  search_id    uuid not null references apollo_searches (id) on delete cascade,
  reserved_at  timestamptz not null default now()
);
