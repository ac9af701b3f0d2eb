-- Apollo search: the credit saver's bookkeeping. The service pages through
-- Apollo's free search and pays for bulk_match only for people it still
-- needs; these functions tell it who we already have (by Apollo id), keep two
-- concurrent searches from paying for the same person, insert what a match
-- revealed (dropping known emails and suppressed addresses or domains) and
-- keep each search's record current as it goes.

create or replace function apollo_search_json(s apollo_searches) returns jsonb
language sql stable as $$
  select jsonb_strip_nulls(jsonb_build_object(
    'searchId', s.id::text,
    'filters', s.filters,
    'leadsWanted', s.total_leads_wanted,
    'leadsAdded', s.leads_added,
    'duplicatesSkipped', s.duplicates_skipped,
    'suppressedSkipped', s.suppressed_skipped,
    'noEmailSkipped', s.no_email_skipped,
    'creditsUsed', s.credits_used,
    'matchesRequested', s.matches_requested,
    'matchCalls', s.match_calls,
    'pagesFetched', s.pages_fetched,
    'totalEntries', s.total_entries,
    'exhausted', s.exhausted,
    'status', s.status,
    'errorCode', s.error_code,
    'errorDetail', s.error_detail,
    'createdAt', s.created_at,
    'finishedAt', s.finished_at));
$$;

create or replace function apollo_search_start(p_filters jsonb, p_leads_wanted integer) returns jsonb
language plpgsql volatile as $$
declare s apollo_searches;
begin
  -- A search still "running" after two hours died with its process: say so.
  update apollo_searches set
    status = 'failed',
    error_code = 'apollo_search_interrupted',
    error_detail = 'The service stopped before this search finished; the leads it had added are kept.',
    finished_at = now()
  where status = 'running' and created_at < now() - interval '2 hours';
  insert into apollo_searches (filters, total_leads_wanted)
  values (coalesce(p_filters, '{}'::jsonb), p_leads_wanted)
  returning * into s;
  return apollo_search_json(s);
end;
$$;

-- Of p_apollo_ids (in order), reserves for this search the people no lead has
-- and no other running search is paying for; returns them in input order.
-- The others count as duplicates of the search.
create or replace function apollo_reserve_people(p_search_id uuid, p_apollo_ids jsonb) returns jsonb
language plpgsql volatile as $$
declare
  v_id text;
  v_got text;
  v_reserved jsonb := '[]'::jsonb;
  v_known integer := 0;
  v_busy integer := 0;
begin
  for v_id in
    select e.value from jsonb_array_elements_text(p_apollo_ids) with ordinality as e(value, n) order by e.n
  loop
    if exists (select 1 from leads where apollo_id = v_id) then
      v_known := v_known + 1;
      continue;
    end if;
    v_got := null;
    insert into apollo_reservations as r (apollo_id, search_id)
    values (v_id, p_search_id)
    on conflict (apollo_id) do update set search_id = excluded.search_id, reserved_at = now()
      where r.search_id <> excluded.search_id
        and (r.reserved_at < now() - interval '15 minutes'
             or not exists (select 1 from apollo_searches s where s.id = r.search_id and s.status = 'running'))
    returning r.apollo_id into v_got;
    if v_got is null then
      v_busy := v_busy + 1;
    else
      v_reserved := v_reserved || to_jsonb(v_id);
    end if;
  end loop;

  update apollo_searches set duplicates_skipped = duplicates_skipped + v_known + v_busy
  where id = p_search_id;
  return jsonb_build_object('reserved', v_reserved, 'known', v_known, 'busy', v_busy);
end;
$$;

-- Records progress of a search: inserts the revealed leads in Apollo's order
-- (they take the next sequence numbers), skipping suppressed addresses or
-- domains and duplicates (email, externalId, apolloId), and adds p_delta
-- ({ pages, credits, matchesRequested, matchCalls, noEmail, totalEntries }) to the record.
create or replace function apollo_search_record(p_search_id uuid, p_leads jsonb, p_delta jsonb) returns jsonb
language plpgsql volatile as $$
declare
  v_given integer := jsonb_array_length(coalesce(p_leads, '[]'::jsonb));
  v_allowed integer;
  v_inserted jsonb;
  v_added integer;
begin
  perform 1 from apollo_searches where id = p_search_id for update;
  if not found then
    raise exception using errcode = 'CR000', message = 'search_not_found',
      detail = format('No Apollo search has id %s.', p_search_id);
  end if;

  with allowed as (
    select e.value as l, e.ordinality as n
    from jsonb_array_elements(coalesce(p_leads, '[]'::jsonb)) with ordinality as e
    where not exists (select from send_blocked(e.value->>'email', e.value->>'companyDomain'))
  ), inserted as (
    insert into leads (email, first_name, last_name, title, company_name, company_domain,
                       website, industry, country, state, city, timezone, linkedin_url,
                       external_id, apollo_id, search_id, resolved_timezone, timezone_source)
    select l->>'email', l->>'firstName', l->>'lastName', l->>'title', l->>'companyName',
           l->>'companyDomain', l->>'website', l->>'industry', l->>'country', l->>'state',
           l->>'city', l->>'timezone', l->>'linkedinUrl', l->>'externalId', l->>'apolloId',
           p_search_id, l->>'resolvedTimezone', l->>'timezoneSource'
    from allowed
    order by n
    on conflict do nothing
    returning leads
  )
  select (select count(*) from allowed),
         coalesce(jsonb_agg(lead_json(inserted.leads) order by (inserted.leads).id), '[]'::jsonb)
  into v_allowed, v_inserted from inserted;
  v_added := jsonb_array_length(v_inserted);

  update apollo_searches set
    leads_added        = leads_added + v_added,
    duplicates_skipped = duplicates_skipped + (v_allowed - v_added),
    suppressed_skipped = suppressed_skipped + (v_given - v_allowed),
    pages_fetched      = pages_fetched + coalesce((p_delta->>'pages')::integer, 0),
    credits_used       = credits_used + coalesce((p_delta->>'credits')::integer, 0),
    matches_requested  = matches_requested + coalesce((p_delta->>'matchesRequested')::integer, 0),
    match_calls        = match_calls + coalesce((p_delta->>'matchCalls')::integer, 0),
    no_email_skipped   = no_email_skipped + coalesce((p_delta->>'noEmail')::integer, 0),
    total_entries      = coalesce((p_delta->>'totalEntries')::integer, total_entries)
  where id = p_search_id;

  return jsonb_build_object(
    'leads', v_inserted,
    'duplicates', v_allowed - v_added,
    'suppressed', v_given - v_allowed);
end;
$$;

-- Ends a search: p_outcome { status: completed|failed, exhausted, errorCode, errorDetail }.
create or replace function apollo_search_finish(p_search_id uuid, p_outcome jsonb) returns jsonb
language plpgsql volatile as $$
declare s apollo_searches;
begin
  update apollo_searches set
    status       = p_outcome->>'status',
    exhausted    = coalesce((p_outcome->>'exhausted')::boolean, exhausted),
    error_code   = p_outcome->>'errorCode',
    error_detail = p_outcome->>'errorDetail',
    finished_at  = now()
  where id = p_search_id
  returning * into s;
  if not found then
    raise exception using errcode = 'CR000', message = 'search_not_found',
      detail = format('No Apollo search has id %s.', p_search_id);
  end if;
  delete from apollo_reservations where search_id = p_search_id;
  return apollo_search_json(s);
end;
$$;

create or replace function get_apollo_search(p_id uuid) returns jsonb
language plpgsql stable as $$
declare v jsonb;
begin
  select apollo_search_json(s) into v from apollo_searches s where s.id = p_id;
  if v is null then
    raise exception using errcode = 'CR000', message = 'search_not_found',
      detail = format('No Apollo search has id %s.', p_id);
  end if;
  return v;
end;
$$;

-- The newest searches first.
create or replace function list_apollo_searches(p_limit integer default 50) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(apollo_search_json(s) order by s.created_at desc, s.id), '[]'::jsonb)
  from (select * from apollo_searches order by created_at desc, id limit greatest(1, least(p_limit, 500))) s;
$$;

-- An Apollo search sent twice with one idempotency key (the node's execution)
-- is one search: paid for once. Sent again, a completed search answers with its
-- record and the leads it added; a search that stopped (failed: Apollo said
-- no, or the database went away under it) goes on where it stopped, paying
-- only for the leads it still lacks; a search still running is reported busy.

-- The leads a search added, in the order it added them (lead ids are the sequence).
create or replace function apollo_search_leads(p_search_id uuid) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(lead_json(l) order by l.id), '[]'::jsonb) from leads l where l.search_id = p_search_id;
$$;

-- → the search's record plus `replay`: 'new' (started now), 'completed' (with
-- `leads`), 'resumed' (running again, with the `leads` it had added) or 'running'.
create or replace function apollo_search_begin(p_filters jsonb, p_leads_wanted integer, p_idempotency_key text)
returns jsonb language plpgsql volatile as $$
declare
  s apollo_searches;
  v jsonb;
begin
  -- two requests with one key never both start a search
  perform pg_advisory_xact_lock(hashtextextended('apollo_search:' || p_idempotency_key, 0));
  select * into s from apollo_searches where idempotency_key = p_idempotency_key;
  if not found then
    v := apollo_search_start(p_filters, p_leads_wanted);
    update apollo_searches set idempotency_key = p_idempotency_key where id = (v->>'searchId')::uuid;
    return v || jsonb_build_object('replay', 'new');
  end if;
  if s.status = 'running' then
    return apollo_search_json(s) || jsonb_build_object('replay', 'running');
  end if;
  if s.status = 'completed' then
    return apollo_search_json(s) || jsonb_build_object('replay', 'completed', 'leads', apollo_search_leads(s.id));
  end if;
  update apollo_searches set status = 'running', error_code = null, error_detail = null, finished_at = null
   where id = s.id
  returning * into s;
  return apollo_search_json(s) || jsonb_build_object('replay', 'resumed', 'leads', apollo_search_leads(s.id));
end;
$$;
