-- Addresses and whole domains nothing is ever sent to. Only send_blocked
-- (routines/suppressions.sql) decides from this table whether mail may go out.
-- An erased person is kept only as 'erased' entries: 'sha256:' and the hash of
-- their address, 'apollo-sha256:' and the hash of their Apollo id (no clear text).

create table if not exists suppressions (
  value       text primary key check (value = lower(value)),
  kind        text not null check (kind in ('email', 'domain', 'erased')),
  reason      text not null,
  created_at  timestamptz not null default now()
);
