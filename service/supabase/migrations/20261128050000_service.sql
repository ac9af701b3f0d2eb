-- Corofy's tables, one migration file per capability, each table created whole
-- in one file. Functions are not here: each is written once in
-- service/supabase/routines/<capability>.sql and reaches databases through the
-- generated *_routines.sql migration (see the README, "How the schema changes").
-- Conventions: ids of leads are bigint identities and double as the sequence
-- order (day 1: 1-400, day 2: 401-800); emails and domains are compared lower-case.

-- Small service-wide settings (e.g. the unsubscribe signing secret).
create table if not exists service_settings (
  name        text primary key,
  value       text not null,
  created_at  timestamptz not null default now()
);

-- The SHA-256 of every migration file as it was applied. The service compares
-- them with its own files at start and refuses a database whose history was
-- edited afterwards (a released migration is never changed, only added to).
create table if not exists migration_checksums (
  version      text primary key,
  name         text not null,
  sha256       text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  recorded_at  timestamptz not null default now()
);
