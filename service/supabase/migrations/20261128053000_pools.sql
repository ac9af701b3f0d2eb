-- Pools: several mailboxes (senders) with one daily target. A pool claim
-- spreads the target over its members by the room each has today (their own
-- ledgers keep each one within its limit); the pool row, locked FOR UPDATE,
-- makes the pool's claims take turns, so their sum stays within the target.
-- Lock order: a pool row before any ledger row (see the quota_ledger migration).

create table if not exists pools (
  id            text primary key check (id ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  daily_target  integer not null default 400 check (daily_target between 0 and 1000000),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);

-- A sender belongs to at most one pool: its leads, claimed through the pool,
-- stay its own for every follow-up (the batch records the sender).
create table if not exists pool_members (
  sender_id  text primary key references senders (id) on delete cascade,
  pool_id    text not null references pools (id) on delete cascade
);

create index if not exists pool_members_pool on pool_members (pool_id, sender_id);

alter table pools enable row level security;
alter table pool_members enable row level security;
