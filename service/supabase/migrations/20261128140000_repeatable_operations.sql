-- Operations a client may send twice (its answer was lost to a dropped
-- connection or a database restart, and the node sends it again) give the same
-- outcome and pay for nothing twice.

-- A gate call sent twice (its answer was lost to a dropped connection or a
-- database restart, and the node sends it again) must answer the same: the
-- emails it leased for sending now come back as "send now" to the caller that
-- holds its key, not as "already gated" (they would never be sent, and sit in
-- `sending` until a person reviews them). A call with another key still gets
-- them as "already gated", so two executions never both send one email.

-- The key of the request that last handed a send out (the gate, or claim-due):
-- a later hand-out replaces it, so a late repeat of an earlier request never
-- gets a send someone else holds now.
alter table sends add column if not exists lease_key text;

create index if not exists sends_lease_key on sends (lease_key) where lease_key is not null;

-- gate_leads, with the sends it makes marked by p_idempotency_key; the leads this
-- key gated before are answered as they were while their send is unchanged
-- (still leased: send now; still scheduled: scheduled), else as already gated.
create or replace function gate_leads_once(
  p_sender text,
  p_leads jsonb,
  p_idempotency_key text,
  p_now timestamptz default now(),
  p_lease_seconds integer default 600
) returns jsonb language plpgsql volatile as $$
declare
  v_result jsonb := gate_leads(p_sender, p_leads, p_now, p_lease_seconds);
  v_mine bigint[];
begin
  update sends set lease_key = p_idempotency_key
   where id in (select (x->>'sendId')::bigint
                  from jsonb_array_elements((v_result->'sendNow') || (v_result->'scheduled')) x);

  select coalesce(array_agg(s.id), '{}') into v_mine
    from jsonb_array_elements(v_result->'alreadyGated') x
    join sends s on s.id = (x->>'sendId')::bigint
   where s.lease_key = p_idempotency_key and s.sender_id = p_sender and s.status in ('sending', 'scheduled');
  if cardinality(v_mine) = 0 then
    return v_result;
  end if;

  return v_result || jsonb_build_object(
    'sendNow', (v_result->'sendNow') || (select coalesce(jsonb_agg(x order by (x->>'leadId')::bigint), '[]'::jsonb)
                 from jsonb_array_elements(v_result->'alreadyGated') x
                 where (x->>'sendId')::bigint = any(v_mine) and x->>'status' = 'sending'),
    'scheduled', (v_result->'scheduled') || (select coalesce(jsonb_agg(x order by (x->>'leadId')::bigint), '[]'::jsonb)
                 from jsonb_array_elements(v_result->'alreadyGated') x
                 where (x->>'sendId')::bigint = any(v_mine) and x->>'status' = 'scheduled'),
    'alreadyGated', (select coalesce(jsonb_agg(x order by (x->>'leadId')::bigint), '[]'::jsonb)
                 from jsonb_array_elements(v_result->'alreadyGated') x
                 where not ((x->>'sendId')::bigint = any(v_mine))));
end;
$$;

-- Claim-due sent twice with one key answers with the sends it leased, while
-- they are still leased (status sending); if it leased nothing that is still
-- out, it claims as a first call would.
create or replace function claim_due_sends_once(
  p_idempotency_key text,
  p_sender text default null,
  p_limit integer default 100,
  p_lease_seconds integer default 600,
  p_now timestamptz default now()
) returns jsonb language plpgsql volatile as $$
declare v jsonb;
begin
  perform pg_advisory_xact_lock(hashtextextended('claim_due:' || p_idempotency_key, 0));
  select jsonb_agg(send_json(s) order by s.send_at, s.id) into v
    from sends s
   where s.lease_key = p_idempotency_key and s.status = 'sending'
     and (p_sender is null or s.sender_id = p_sender);
  if v is not null then
    return jsonb_build_object('sends', v);
  end if;
  v := claim_due_sends(p_sender, p_limit, p_lease_seconds, p_now);
  update sends set lease_key = p_idempotency_key
   where id in (select (x->>'sendId')::bigint from jsonb_array_elements(v->'sends') x);
  return v;
end;
$$;

-- An Apollo search sent twice with one idempotency key (the node's execution)
-- is one search: paid for once. Sent again, a completed search answers with its
-- record and the leads it added; a search that stopped (failed: Apollo said
-- no, or the database went away under it) goes on where it stopped, paying
-- only for the leads it still lacks; a search still running is reported busy.

alter table apollo_searches add column if not exists idempotency_key text;

create unique index if not exists apollo_searches_idempotency_key
  on apollo_searches (idempotency_key) where idempotency_key is not null;

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
