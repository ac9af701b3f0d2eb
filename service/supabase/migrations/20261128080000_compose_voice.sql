-- Compose speaks for any company, in the recipient's language, at a known cost.
--   sender_profiles   who the sender's company is and how it writes (per sender;
--                     the sender 'default' is the shared default)
--   drafts            + the language and the tokens each draft cost
--   compose_usage     tokens per sender-local day (what stats report)
--   company_websites  + a short profile of the recipient company, made once from
--                     its page and reused for every later lead of the domain
-- Tables only, before the routines migration: the functions are in
-- routines/compose.sql and routines/sender_profiles.sql.

-- A field a sender leaves null is taken from the sender 'default' (an empty
-- avoid list is a choice, not a gap). language: an ISO 639-1 code, or
-- 'recipient' for the language of the recipient's country.
create table if not exists sender_profiles (
  sender_id          text primary key references senders (id),
  company_name       text,
  offer              text,
  why_customers_buy  text,
  tone               text,
  avoid_phrases      text[],
  signature          text,
  language           text check (language is null or language = 'recipient' or language ~ '^[a-z]{2}$'),
  updated_at         timestamptz not null default now()
);
alter table sender_profiles enable row level security;

alter table drafts add column if not exists language text;
alter table drafts add column if not exists prompt_tokens integer;
alter table drafts add column if not exists completion_tokens integer;

alter table company_websites add column if not exists summary text;
-- the catalog product the AI chose for this company with the summary (null: none fits)
alter table company_websites add column if not exists summary_product_id text;
alter table company_websites add column if not exists summarized_at timestamptz;

-- Every AI call of composing, counted once per lead outcome (a stored draft or a
-- lead given up on), per sender-local day and model. Previews are not counted:
-- they store nothing.
create table if not exists compose_usage (
  sender_id          text not null references senders (id),
  day                date not null,
  model              text not null,
  requests           integer not null default 0,
  prompt_tokens      bigint not null default 0,
  completion_tokens  bigint not null default 0,
  drafts             integer not null default 0,
  rejected           integer not null default 0,
  primary key (sender_id, day, model)
);
alter table compose_usage enable row level security;
