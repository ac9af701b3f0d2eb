-- Leads and the queue of leads waiting to be claimed.

-- Every step of a lead's life (claim, compose, gate, send) updates its row. An
-- update that changes no indexed column and finds room on the row's page is HOT:
-- it writes no index entry. So no index on leads names status or the lease, and
-- pages are left half empty: a claim rewrites every row of the pages it touches
-- (400 neighbours), and each new row version must fit beside its old one.
create table if not exists leads (
  id                bigint generated always as identity primary key,
  email             text,
  first_name        text,
  last_name         text,
  title             text,
  company_name      text,
  company_domain    text,
  website           text,
  industry          text,
  country           text,          -- ISO 3166 alpha-2 when known
  state             text,
  city              text,
  timezone          text,          -- as given (IANA), before resolution
  linkedin_url      text,
  external_id       text,
  apollo_id         text,
  search_id         uuid references apollo_searches (id),
  -- where the person's data came from and when (GDPR Art. 14): an Apollo search
  -- (search_id) or an import (source_detail: what the importer said, if anything)
  source            text not null default 'import' check (source in ('apollo', 'import')),
  source_detail     text,
  obtained_at       timestamptz not null default now(),
  status            text not null default 'new' check (status in (
                      'new', 'claimed', 'composed', 'scheduled', 'sending', 'sent',
                      'skipped', 'dead', 'needs_review', 'replied', 'bounced',
                      'unsubscribed', 'complained', 'erased', 'stopped')),
  status_reason     text,          -- why a lead was skipped, dead, stopped or needs review
  -- the sequence step the lead is on (1 until its first follow-up is claimed)
  step              integer not null default 1 check (step >= 1),
  batch_id          uuid,
  claimed_at        timestamptz,
  lease_expires_at  timestamptz,   -- a claim not composed by then returns to 'new'
  resolved_timezone text,
  timezone_source   text,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now()
) with (fillfactor = 50);

create unique index if not exists leads_email_key on leads (lower(email));
-- Partial: most leads have only one of the two ids; a lead without the id costs
-- these indexes nothing. (The claim finds new leads through lead_queue and the
-- sweeper finds expired claims through batches.)
create unique index if not exists leads_external_id_key on leads (external_id) where external_id is not null;
-- a reply from someone at a company stops the company's other leads (stopForCompany);
-- company_domain never changes after import, so this index keeps claims HOT
create index if not exists leads_company_domain on leads (lower(company_domain)) where company_domain is not null;
create unique index if not exists leads_apollo_id_key on leads (apollo_id) where apollo_id is not null;

-- The leads waiting to be claimed, in sequence order: one narrow row per lead.
-- The claim takes (deletes) rows from its front instead of scanning leads, so it
-- touches only this table's small index, and its update of the leads themselves
-- changes no indexed column (HOT, see above). Every lead that is new has a row
-- here: triggers (routines/leads.sql) add one when a lead is inserted new or
-- becomes new again (a released claim). A row whose lead is no longer new (it
-- replied, or was suppressed, while waiting) is dropped by the claim that meets it.
create table if not exists lead_queue (
  lead_id bigint primary key references leads (id) on delete cascade
);
