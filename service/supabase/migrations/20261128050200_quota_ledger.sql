-- The quota ledger: one row per sender and sender-local day, locked FOR UPDATE
-- by every operation that assigns or releases work on that day, and changed
-- only through the ledger functions (routines/quota_ledger.sql).
--
-- Lock order (deadlock freedom): ledger rows first, in ascending (sender, day)
-- order; then lead / send rows. Functions that touch rows before the ledger
-- only ever do so with SKIP LOCKED.

create table if not exists sender_days (
  sender_id  text not null references senders (id),
  day        date not null,
  quota      integer not null,
  claimed    integer not null default 0 check (claimed >= 0),   -- claimed for the day, not yet scheduled
  scheduled  integer not null default 0 check (scheduled >= 0), -- scheduled for the day (incl. sending)
  sent       integer not null default 0 check (sent >= 0),
  -- where this sender-day's next claim starts its scan (see lead_claim_scan in
  -- the batches migration): the lowest lead id its last claim picked, valid
  -- while claim_epoch equals the global epoch
  claim_low   bigint not null default 0,
  claim_epoch bigint not null default 0,
  primary key (sender_id, day),
  check (claimed + scheduled + sent <= quota)
);
