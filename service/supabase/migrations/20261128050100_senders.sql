-- Senders: who sends, how much a day, and when (the sender's own window and pacing).

create table if not exists senders (
  id              text primary key check (id ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  daily_quota     integer not null default 400 check (daily_quota between 0 and 100000),
  timezone        text not null default 'UTC',
  window_days     text[] not null default '{mon,tue,wed,thu,fri}',
  window_start    time not null default '09:00',
  window_end      time not null default '17:00',
  skip_holidays   boolean not null default true,
  from_name       text,
  from_email      text,
  postal_address  text,
  -- pacing: a minimum gap (plus random jitter) between two sends of this sender
  min_gap_seconds integer not null default 0 check (min_gap_seconds >= 0),
  jitter_seconds  integer not null default 0 check (jitter_seconds >= 0),
  -- an out-of-office answer stops the lead only when the sender wants it to
  stop_on_auto_reply boolean not null default false,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);

insert into senders (id) values ('default') on conflict (id) do nothing;
