-- Leads: import, read, and the upkeep of lead_queue.

-- json, not jsonb: a claim answers with 400 of these, and text joined in field
-- order costs a third of building jsonb objects (which sort and copy their keys).
-- Absent fields are left out (concat_ws skips the nulls), as the API has them.
create or replace function lead_json(l leads) returns json
language sql stable as $$
  select ('{' || concat_ws(',',
    '"id":"' || l.id || '"',
    '"email":' || to_json(l.email),
    '"firstName":' || to_json(l.first_name),
    '"lastName":' || to_json(l.last_name),
    '"title":' || to_json(l.title),
    '"companyName":' || to_json(l.company_name),
    '"companyDomain":' || to_json(l.company_domain),
    '"website":' || to_json(l.website),
    '"industry":' || to_json(l.industry),
    '"country":' || to_json(l.country),
    '"state":' || to_json(l.state),
    '"city":' || to_json(l.city),
    '"timezone":' || to_json(coalesce(l.resolved_timezone, l.timezone)),
    '"timezoneSource":' || to_json(l.timezone_source),
    '"linkedinUrl":' || to_json(l.linkedin_url),
    '"externalId":' || to_json(l.external_id),
    '"apolloId":' || to_json(l.apollo_id),
    '"status":' || to_json(l.status),
    '"step":' || l.step,
    '"statusReason":' || to_json(l.status_reason),
    '"createdAt":' || to_json(l.created_at)) || '}')::json;
$$;

-- Inserts leads in input order (they take the next sequence numbers).
-- Duplicates (same email case-insensitively, same externalId or apolloId) are
-- skipped, never updated. A person who was erased (send_blocked finds their
-- hashed entry) is refused: their data is not stored again. Input is already
-- validated and normalised by the service, which also resolved each lead's zone
-- from its own data (resolvedTimezone, timezoneSource). Each lead records where
-- it came from (an import, with the importer's sourceDetail) and when
-- (obtainedAt, else now).
-- Returns only ids: building 5000 lead documents nobody reads halves throughput.
create or replace function import_leads(p_leads jsonb, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare
  v_ids jsonb;
  v_total integer := jsonb_array_length(p_leads);
  v_erased jsonb;
begin
  with input as (
    select e.value as l, e.ordinality as n
    from jsonb_array_elements(p_leads) with ordinality as e
  )
  select coalesce(jsonb_agg((n - 1) order by n), '[]'::jsonb) into v_erased from input
   where exists (select from send_blocked(l->>'email') b where b.kind = 'erased');

  with input as (
    select e.value as l, e.ordinality as n
    from jsonb_array_elements(p_leads) with ordinality as e
  ), inserted as (
    insert into leads (email, first_name, last_name, title, company_name, company_domain,
                       website, industry, country, state, city, timezone, linkedin_url,
                       external_id, resolved_timezone, timezone_source,
                       source, source_detail, obtained_at, created_at)
    select l->>'email', l->>'firstName', l->>'lastName', l->>'title', l->>'companyName',
           l->>'companyDomain', l->>'website', l->>'industry', l->>'country', l->>'state',
           l->>'city', l->>'timezone', l->>'linkedinUrl', l->>'externalId',
           l->>'resolvedTimezone', l->>'timezoneSource',
           'import', l->>'sourceDetail', coalesce((l->>'obtainedAt')::timestamptz, p_now), p_now
    from input
    where not ((n - 1) = any(select jsonb_array_elements_text(v_erased)::bigint))
    order by n
    on conflict do nothing
    returning id
  )
  select coalesce(jsonb_agg(id::text order by id), '[]'::jsonb) into v_ids from inserted;

  return jsonb_build_object(
    'imported', jsonb_array_length(v_ids),
    'duplicates', v_total - jsonb_array_length(v_erased) - jsonb_array_length(v_ids),
    'erased', v_erased,
    'leadIds', v_ids);
end;
$$;

-- One lead with where its data came from and when (GDPR Art. 14): the claim
-- and compose items leave these out (lead_json), a lead read alone has them.
create or replace function get_lead(p_id bigint) returns json
language plpgsql stable as $$
declare v json;
begin
  select (lead_json(l)::jsonb || jsonb_strip_nulls(jsonb_build_object(
            'source', l.source, 'sourceDetail', l.source_detail, 'searchId', l.search_id,
            'obtainedAt', l.obtained_at)))::json
    into v from leads l where l.id = p_id;
  if v is null then
    raise exception using errcode = 'CR000', message = 'lead_not_found',
      detail = format('No lead has id %s.', p_id);
  end if;
  return v;
end;
$$;

create or replace function lead_queue_add_inserted() returns trigger
language plpgsql as $$
begin
  insert into lead_queue (lead_id) select id from inserted_leads where status = 'new'
  on conflict do nothing;
  return null;
end;
$$;

create or replace function lead_queue_add_renewed() returns trigger
language plpgsql as $$
begin
  insert into lead_queue (lead_id) values (new.id) on conflict do nothing;
  return null;
end;
$$;

-- THE stopped-status test: a lead that answered or opted out gets nothing more
-- (no send handed out, no retry, no new draft). Immutable SQL: inlined where used.
create or replace function lead_status_stopped(p_status text) returns boolean
language sql immutable as $$
  select p_status in ('replied', 'bounced', 'unsubscribed', 'complained', 'erased', 'stopped');
$$;

-- One statement-level trigger for inserts (an import of 5,000 leads queues them
-- in one insert); a row trigger only for the rare update back to new, so the
-- claim's own update of 400 leads fires nothing.
drop trigger if exists lead_queue_on_insert on leads;
create trigger lead_queue_on_insert after insert on leads
  referencing new table as inserted_leads
  for each statement execute function lead_queue_add_inserted();
drop trigger if exists lead_queue_on_renew on leads;
create trigger lead_queue_on_renew after update of status on leads
  for each row when (new.status = 'new' and old.status is distinct from 'new')
  execute function lead_queue_add_renewed();
