-- Webhooks: subscriptions (the Corofy Trigger registers one per active workflow)
-- and an outbox of deliveries. A delivery row is written in the same transaction
-- as the event it announces, so an event is never recorded without its
-- notifications, and a notification never announces an event that rolled back.

create table if not exists webhooks (
  id           uuid primary key default gen_random_uuid(),
  url          text not null check (url ~* '^https?://'),
  events       text[] not null check (cardinality(events) > 0),
  -- Standard Webhooks signing secret ("whsec_" + base64 key): the service must
  -- sign with it, so it is kept; it is shown once, when the webhook is created
  secret       text not null,
  description  text,
  created_at   timestamptz not null default now()
);
alter table webhooks enable row level security;

create table if not exists webhook_deliveries (
  id               bigint generated always as identity primary key,
  webhook_id       uuid not null references webhooks (id) on delete cascade,
  message_id       text not null unique,    -- the webhook-id header: the same on every retry
  event_type       text not null,
  -- deliveries with the same key go out in order: one at a time, oldest first
  order_key        text not null,
  payload          jsonb not null,
  status           text not null default 'pending' check (status in ('pending', 'delivered', 'dead')),
  attempts         integer not null default 0,
  next_attempt_at  timestamptz not null,
  lease_expires_at timestamptz,
  last_status      integer,
  last_error       text,
  delivered_at     timestamptz,
  created_at       timestamptz not null default now()
);
create index if not exists webhook_deliveries_due on webhook_deliveries (next_attempt_at, id) where status = 'pending';
create index if not exists webhook_deliveries_order on webhook_deliveries (webhook_id, order_key, id) where status = 'pending';
create index if not exists webhook_deliveries_webhook on webhook_deliveries (webhook_id, id);
alter table webhook_deliveries enable row level security;
