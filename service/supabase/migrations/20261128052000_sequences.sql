-- Follow-up sequences: what each sender sends after step 1, and the follow-ups
-- waiting to come due.

-- A sender's sequence: step 1 (today's email) and its follow-ups, each
-- {"delayBusinessDays", "mode": "ai"|"template", "instruction", "template"}.
-- A sender without a row has the default sequence (default_sequence_steps in
-- routines/sequences.sql: step 1, follow-ups after 3 and 5 business days).
create table if not exists sequences (
  sender_id        text primary key references senders (id),
  steps            jsonb not null check (jsonb_typeof(steps) = 'array' and jsonb_array_length(steps) between 1 and 10),
  -- a reply from anyone at a lead's company domain stops every lead of that company
  stop_for_company boolean not null default true,
  updated_at       timestamptz not null default now()
);

-- The next follow-up of each lead whose last step was sent (one row per lead):
-- written when a send becomes sent and the sequence has a next step, taken
-- (deleted) by the claim of the sender-day it is due on, dropped when the lead
-- stops. The claim reads it by (sender, due_at), like lead_queue for new leads.
create table if not exists followups (
  lead_id    bigint primary key references leads (id) on delete cascade,
  sender_id  text not null references senders (id),
  step       integer not null check (step >= 2),
  -- the start of the recipient-local day the step is due (its delay passed)
  due_at     timestamptz not null,
  created_at timestamptz not null default now()
);

create index if not exists followups_due on followups (sender_id, due_at, lead_id);
