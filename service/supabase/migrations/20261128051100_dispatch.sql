-- The dispatcher: Corofy sends through the sender's own mailbox (delivery 'corofy').
-- One replica drives a mailbox at a time (a lease per mailbox and role, renewed
-- while its holder lives, taken over when it stops renewing); sends are claimed
-- and settled through the same functions n8n's path uses (claim_due_sends,
-- report_sends), so quota, suppression and at-most-once rules stay in one place.

create table if not exists mailbox_leases (
  sender_id   text not null references senders (id) on delete cascade,
  role        text not null check (role in ('smtp', 'imap')),
  holder      text not null,
  expires_at  timestamptz not null,
  primary key (sender_id, role)
);

alter table mailbox_leases enable row level security;
