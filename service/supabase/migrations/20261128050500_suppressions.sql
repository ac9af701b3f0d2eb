-- Addresses and whole domains nothing is ever sent to. Only send_blocked
-- (routines/suppressions.sql) decides from this table whether mail may go out.

create table if not exists suppressions (
  value       text primary key check (value = lower(value)),
  kind        text not null check (kind in ('email', 'domain')),
  reason      text not null,
  created_at  timestamptz not null default now()
);
