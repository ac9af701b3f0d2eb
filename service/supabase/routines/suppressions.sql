-- Suppressions: what may never be sent to, and the API over the list.

-- A domain as suppressions compare it: lower case, without blanks, tabs or line
-- breaks around it, without a final dot ("ACME.com. " is acme.com).
create or replace function clean_domain(p_domain text) returns text
language sql immutable as $$
  select rtrim(lower(btrim(p_domain, E' \t\r\n')), '.');
$$;

-- A domain and the domains above it, down to two labels: a suppressed acme.com
-- also stops mail to eu.acme.com (up to four labels deeper). Written as one
-- expression so Postgres inlines it (the claim checks 400 addresses at a time);
-- a domain with a single dot, the usual case, costs no pattern match.
create or replace function domain_keys(p_domain text) returns text[]
language sql immutable as $$
  select case when clean_domain(p_domain) like '%.%.%' then array[
      clean_domain(p_domain),
      substring(clean_domain(p_domain) from '^[^.]+\.(.+\..+)$'),
      substring(clean_domain(p_domain) from '^(?:[^.]+\.){2}(.+\..+)$'),
      substring(clean_domain(p_domain) from '^(?:[^.]+\.){3}(.+\..+)$'),
      substring(clean_domain(p_domain) from '^(?:[^.]+\.){4}(.+\..+)$')]
    else array[nullif(clean_domain(p_domain), '')] end;
$$;

-- Every suppression value that stops mail to an address: the address, the same
-- inbox without a "+tag" (john+offers@acme.com is john@acme.com), and its
-- domain and the domains above it.
create or replace function suppression_keys(p_email text) returns text[]
language sql immutable as $$
  select array[lower(btrim(p_email, E' \t\r\n')),
               case when strpos(p_email, '+') > 0 then regexp_replace(lower(btrim(p_email, E' \t\r\n')), '\+[^@]*@', '@') end]
         || domain_keys(split_part(lower(btrim(p_email, E' \t\r\n')), '@', 2));
$$;

-- The 'erased' suppression values of a person: the SHA-256 of their address
-- (as suppression_keys writes it, and without a "+tag") and of their Apollo id.
-- An erasure keeps only these, so the person is recognised again (never
-- emailed, imported or paid for) without Corofy holding their address.
create or replace function erased_keys(p_email text, p_apollo_id text default null) returns text[]
language sql immutable as $$
  select array[
    'sha256:' || encode(sha256(convert_to(nullif(lower(btrim(p_email, E' \t\r\n')), ''), 'UTF8')), 'hex'),
    case when strpos(p_email, '+') > 0 then
      'sha256:' || encode(sha256(convert_to(regexp_replace(lower(btrim(p_email, E' \t\r\n')), '\+[^@]*@', '@'), 'UTF8')), 'hex') end,
    'apollo-sha256:' || encode(sha256(convert_to(nullif(btrim(p_apollo_id), ''), 'UTF8')), 'hex')];
$$;

-- Every suppression value that stops mail to an address of a lead: the
-- address's keys (see suppression_keys), the lead's company domain with the
-- domains above it (a suppressed company stops every lead of that company,
-- whatever mailbox domain its people use), and the hashes an erasure keeps of
-- the address and of the person's Apollo id (see erased_keys).
create or replace function send_block_keys(p_email text, p_company_domain text default null, p_apollo_id text default null)
returns text[] language sql immutable as $$
  select suppression_keys(p_email) || domain_keys(p_company_domain) || erased_keys(p_email, p_apollo_id);
$$;

-- THE suppression rule, for every path (claim, gate, claim-due, report, retry,
-- sweep, compose, Apollo intake, import): the suppressions that block mail to
-- this address of a lead with this company domain (and, before Apollo is paid
-- to reveal an address, to the person with this Apollo id); none, and mail may go.
-- A set-returning SQL function so that Postgres inlines it where it is used
-- (`exists (select from send_blocked(…))`): the claim checks 400 leads a call,
-- and a scalar function with a subquery would be called, not inlined, per lead.
create or replace function send_blocked(p_email text, p_company_domain text default null, p_apollo_id text default null)
returns table (value text, kind text, reason text)
language sql stable as $$
  select s.value, s.kind, s.reason from suppressions s
   where s.value = any(send_block_keys(p_email, p_company_domain, p_apollo_id));
$$;

-- Suppresses an address or domain and cancels the pending sends it blocks
-- (to the address, or to a lead of the company).
create or replace function suppress_value(p_value text, p_kind text, p_reason text, p_now timestamptz)
returns integer language plpgsql volatile as $$
declare r record; n integer := 0;
begin
  insert into suppressions (value, kind, reason, created_at)
  values (lower(btrim(p_value)), p_kind, p_reason, p_now) on conflict do nothing;
  perform ledger_lock_all((select jsonb_agg(jsonb_build_object('sender', s.sender_id, 'day', s.day))
                             from sends s join leads l on l.id = s.lead_id
                            where s.status in ('scheduled', 'failed')
                              and lower(btrim(p_value)) = any(send_block_keys(s.to_email, l.company_domain))));
  for r in select distinct s.lead_id from sends s join leads l on l.id = s.lead_id
            where s.status in ('scheduled', 'failed')
              and lower(btrim(p_value)) = any(send_block_keys(s.to_email, l.company_domain)) loop
    n := n + cancel_pending_sends(r.lead_id, 'suppressed: ' || p_reason, p_now);
    -- the lead says why nothing will be sent (not 'scheduled' with a cancelled send)
    update leads set status = 'skipped', status_reason = 'suppressed: ' || p_reason, updated_at = p_now
     where id = r.lead_id and status in ('scheduled', 'sending', 'needs_review');
  end loop;
  return n;
end;
$$;

-- An erased person is known from now on only by hashes (erased_keys): they
-- replace a suppression of the address in clear text.
create or replace function suppress_erased(p_email text, p_apollo_id text, p_now timestamptz)
returns void language sql volatile as $$
  insert into suppressions (value, kind, reason, created_at)
  select k, 'erased', 'erased', p_now from unnest(erased_keys(p_email, p_apollo_id)) k where k is not null
  on conflict (value) do nothing;
  delete from suppressions where kind = 'email' and value = lower(btrim(p_email, E' \t\r\n'));
$$;

create or replace function suppression_json(s suppressions) returns jsonb
language sql stable as $$
  select jsonb_build_object('value', s.value, 'kind', s.kind, 'reason', s.reason, 'createdAt', s.created_at);
$$;

create or replace function list_suppressions(p_kind text default null, p_after text default null, p_limit integer default 100)
returns jsonb language sql stable as $$
  select jsonb_build_object('suppressions', coalesce(jsonb_agg(suppression_json(t) order by t.value), '[]'::jsonb))
  from (select * from suppressions s
         where (p_kind is null or s.kind = p_kind) and (p_after is null or s.value > p_after)
         order by s.value limit p_limit) t;
$$;

create or replace function add_suppression(p_value text, p_kind text, p_reason text, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare n integer; s suppressions;
begin
  n := suppress_value(p_value, p_kind, p_reason, p_now);
  select * into s from suppressions where value = lower(btrim(p_value));
  return suppression_json(s) || jsonb_build_object('cancelledSends', n);
end;
$$;

create or replace function delete_suppression(p_value text) returns jsonb
language plpgsql volatile as $$
declare s suppressions;
begin
  delete from suppressions where value = lower(btrim(p_value)) returning * into s;
  if not found then
    raise exception using errcode = 'CR000', message = 'suppression_not_found',
      detail = format('"%s" is not suppressed.', p_value);
  end if;
  return suppression_json(s);
end;
$$;
