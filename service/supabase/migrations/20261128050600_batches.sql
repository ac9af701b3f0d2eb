-- The daily batch: one row per claim of a sender-day.

-- The same (sender, idempotency key) is the same batch.
-- A claim's lease is on its batch: the sweeper finds expired claims here instead
-- of through an index on leads (which would make every claim update non-HOT).
-- lease_settled_at: the sweeper has seen the lease end and nothing of the batch
-- is left claimed or composed.
create table if not exists batches (
  id               uuid primary key default gen_random_uuid(),
  sender_id        text not null references senders (id),
  day              date not null,      -- sender-local day the batch counts against
  idempotency_key  text,
  size_requested   integer,
  lead_ids         bigint[] not null default '{}',
  created_at       timestamptz not null default now(),
  lease_expires_at timestamptz,
  lease_settled_at timestamptz,
  unique (sender_id, idempotency_key)
);

create index if not exists batches_unsettled_lease on batches (lease_expires_at) where lease_settled_at is null;

-- Where a claim's scan starts. Claimed leads leave dead entries at the front of
-- the queue's index until VACUUM; every claim stepping over all of them again
-- made claims slower with each lead claimed. Each sender-day
-- remembers the lowest id its last claim picked (sender_days.claim_low): under
-- the ledger lock nothing below it is still new, except leads that became new
-- again (the sweeper's released claims, a claim rolled back after its scan).
-- The sweeper bumps this global epoch on every run, and a sender-day whose
-- remembered epoch differs scans from the start once: a lead can be passed over
-- for at most one sweep interval.
create table if not exists lead_claim_scan (
  singleton boolean primary key default true check (singleton),
  epoch bigint not null default 0
);
insert into lead_claim_scan (singleton) values (true) on conflict do nothing;
-- stats and the status page count a sender's batches of one day
create index if not exists batches_sender_day on batches (sender_id, day);
