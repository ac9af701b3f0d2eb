-- Compose: the product catalog, the company-website cache and the drafts.

-- The product catalog the composer pitches from.
create table if not exists products (
  id          text primary key,
  position    integer not null default 0,
  industries  text[] not null default '{}',
  keywords    text[] not null default '{}',
  product     text not null,
  pitch       text not null,
  updated_at  timestamptz not null default now()
);

-- Scraped company websites, cached per domain.
create table if not exists company_websites (
  domain       text primary key,
  url          text not null,
  title        text,
  markdown     text,
  status_code  integer,
  error        text,
  scraped_at   timestamptz not null default now(),
  expires_at   timestamptz not null
);

-- The composed email of a lead for one sequence step.
create table if not exists drafts (
  lead_id     bigint not null references leads (id),
  step        integer not null default 1 check (step >= 1),
  subject     text not null,
  text        text not null,
  html        text not null,
  product     text,
  source      text not null check (source in ('catalog', 'website', 'generic', 'followup', 'template')),
  model       text,
  created_at  timestamptz not null default now(),
  primary key (lead_id, step)
);
-- the status page: today's drafts by source, by when they were written
create index if not exists drafts_created on drafts (created_at) include (source);
