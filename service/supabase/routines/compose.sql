-- Compose: the product catalog, the company-website cache and drafts.
-- The service decides what to write (catalog, website, generic) and asks the
-- AI; these functions keep the data and re-check each lead under its row lock.

create or replace function product_json(p products) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', p.id,
    'industries', to_jsonb(p.industries),
    'keywords', to_jsonb(p.keywords),
    'product', p.product,
    'pitch', p.pitch,
    'updatedAt', p.updated_at);
$$;

create or replace function get_catalog() returns jsonb
language sql stable as $$
  select jsonb_build_object('products',
    coalesce((select jsonb_agg(product_json(p) order by p.position, p.id) from products p), '[]'::jsonb));
$$;

-- Replaces the whole catalog (PUT). Input is validated by the service.
create or replace function replace_catalog(p_products jsonb) returns jsonb
language plpgsql volatile as $$
begin
  perform pg_advisory_xact_lock(7262026040);
  delete from products where true;
  insert into products (id, position, industries, keywords, product, pitch, updated_at)
  select e.value->>'id',
         e.ordinality::integer,
         coalesce((select array_agg(x order by n) from jsonb_array_elements_text(e.value->'industries') with ordinality t(x, n)), '{}'),
         coalesce((select array_agg(x order by n) from jsonb_array_elements_text(e.value->'keywords') with ordinality t(x, n)), '{}'),
         e.value->>'product',
         e.value->>'pitch',
         now()
  from jsonb_array_elements(p_products) with ordinality e;
  -- an operator's catalog, even an empty one, is never overwritten by the default
  insert into service_settings (name, value) values ('catalog_seeded', now()::text)
  on conflict (name) do nothing;
  return get_catalog();
end;
$$;

-- Seeds the default catalog once per database (first start); later starts and
-- replicas starting together leave it alone.
create or replace function seed_catalog(p_products jsonb) returns jsonb
language plpgsql volatile as $$
begin
  perform pg_advisory_xact_lock(7262026040);
  insert into service_settings (name, value) values ('catalog_seeded', now()::text)
  on conflict (name) do nothing;
  if not found or exists (select 1 from products) then
    return jsonb_build_object('seeded', false);
  end if;
  perform replace_catalog(p_products);
  return jsonb_build_object('seeded', true, 'products', jsonb_array_length(p_products));
end;
$$;

create or replace function draft_json(d drafts) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'leadId', d.lead_id::text,
    'step', d.step,
    'subject', d.subject,
    'text', d.text,
    'html', d.html,
    'product', d.product,
    'source', d.source,
    'model', d.model,
    'createdAt', d.created_at);
$$;

-- Why a lead may not get a (new) draft, or null when it may.
create or replace function compose_refusal(l leads, p_regenerate boolean) returns text
language sql stable as $$
  select case
    when l.status = 'sent' or lead_status_stopped(l.status) then 'lead_' || l.status
    when exists (select from send_blocked(l.email, l.company_domain)) then 'lead_suppressed'
    when p_regenerate and l.status in ('scheduled', 'sending', 'needs_review') then 'lead_already_scheduled'
    else null
  end;
$$;

-- Everything composing needs, read once: the sender, the catalog, and each
-- requested lead (in request order) with its stored draft and refusal reason.
-- A lead on a follow-up step (p_step null: each lead's own step) also comes with
-- that step's definition and the emails already sent to it, oldest first.
create or replace function compose_prepare(p_lead_ids jsonb, p_sender text, p_regenerate boolean,
                                           p_step integer default null)
returns jsonb language plpgsql stable as $$
declare
  s senders;
begin
  s := sender_lawful_or_raise(p_sender);
  return jsonb_build_object(
    'sender', jsonb_build_object('id', s.id, 'fromName', s.from_name, 'fromEmail', s.from_email,
                                 'postalAddress', s.postal_address, 'privacyNoticeUrl', s.privacy_notice_url),
    'profile', effective_sender_profile(s.id),
    'catalog', get_catalog()->'products',
    'leads', coalesce((
      select jsonb_agg(
        case when l.id is null then jsonb_build_object('id', i.id, 'missing', true)
        else lead_json(l)::jsonb || jsonb_build_object(
          'refusal', compose_refusal(l, p_regenerate),
          'draft', (select draft_json(d) || draft_cost_json(d) from drafts d
                     where d.lead_id = l.id and d.step = coalesce(p_step, l.step)),
          'sequenceStep', case when coalesce(p_step, l.step) > 1 then sequence_step(s.id, coalesce(p_step, l.step)) end,
          'sentBefore', case when coalesce(p_step, l.step) > 1 then (
            select coalesce(jsonb_agg(jsonb_build_object('step', p.step, 'subject', p.subject, 'text', p.text) order by p.step), '[]'::jsonb)
              from sends p where p.lead_id = l.id and p.step < coalesce(p_step, l.step) and p.status = 'sent') end)
        end order by i.n)
      from jsonb_array_elements_text(p_lead_ids) with ordinality i(id, n)
      left join leads l on l.id = i.id::bigint), '[]'::jsonb));
end;
$$;

-- Stores a draft, re-checking the lead under its row lock. Without
-- p_regenerate an existing draft wins (two concurrent composes store one).
-- A claimed lead becomes composed; other statuses stay as they are.
create or replace function save_draft(p_lead_id bigint, p_draft jsonb, p_regenerate boolean, p_step integer default null)
returns jsonb language plpgsql volatile as $$
declare
  l leads;
  d drafts;
  v_refusal text;
  v_step integer;
begin
  -- the AI calls were made whatever happens to the draft
  perform add_compose_usage(p_draft->>'sender', p_draft->'usage', 1, 0);
  select * into l from leads where id = p_lead_id for update;
  if not found then
    return jsonb_build_object('ok', false, 'code', 'lead_not_found',
                              'detail', format('No lead has id %s.', p_lead_id));
  end if;
  v_refusal := compose_refusal(l, p_regenerate);
  v_step := coalesce(p_step, l.step);
  if v_refusal is not null then
    return jsonb_build_object('ok', false, 'code', v_refusal, 'status', l.status);
  end if;

  if p_regenerate then
    insert into drafts (lead_id, step, subject, text, html, product, source, model,
                        language, prompt_tokens, completion_tokens)
    values (l.id, v_step, p_draft->>'subject', p_draft->>'text', p_draft->>'html', p_draft->>'product',
            p_draft->>'source', p_draft->>'model', p_draft->>'language',
            (p_draft->'usage'->>'promptTokens')::integer, (p_draft->'usage'->>'completionTokens')::integer)
    on conflict (lead_id, step) do update set
      subject = excluded.subject, text = excluded.text, html = excluded.html,
      product = excluded.product, source = excluded.source, model = excluded.model,
      language = excluded.language, prompt_tokens = excluded.prompt_tokens,
      completion_tokens = excluded.completion_tokens, created_at = now()
    returning * into d;
  else
    insert into drafts (lead_id, step, subject, text, html, product, source, model,
                        language, prompt_tokens, completion_tokens)
    values (l.id, v_step, p_draft->>'subject', p_draft->>'text', p_draft->>'html', p_draft->>'product',
            p_draft->>'source', p_draft->>'model', p_draft->>'language',
            (p_draft->'usage'->>'promptTokens')::integer, (p_draft->'usage'->>'completionTokens')::integer)
    on conflict (lead_id, step) do nothing
    returning * into d;
    if not found then
      select * into d from drafts where lead_id = l.id and step = v_step;
    end if;
  end if;

  if l.status = 'claimed' then
    update leads set status = 'composed', updated_at = now() where id = l.id;
  elsif l.status = 'skipped' and l.status_reason like 'draft_rejected:%' then
    -- given up on by an earlier run (reject_draft); now it has a draft: back in line
    update leads set status = 'new', status_reason = null, updated_at = now() where id = l.id;
  end if;
  return jsonb_build_object('ok', true, 'draft', draft_json(d) || draft_cost_json(d));
end;
$$;

-- The cached scrape of a company website with the company summary, or null
-- when absent or expired.
create or replace function get_company_website(p_domain text) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'domain', w.domain, 'url', w.url, 'title', w.title, 'markdown', w.markdown,
    'statusCode', w.status_code, 'error', w.error, 'scrapedAt', w.scraped_at, 'expiresAt', w.expires_at,
    'summary', w.summary, 'summaryProductId', w.summary_product_id)
  from company_websites w
  where w.domain = lower(p_domain) and w.expires_at > now();
$$;

create or replace function save_company_website(p_site jsonb, p_ttl_seconds integer)
returns jsonb language plpgsql volatile as $$
begin
  insert into company_websites (domain, url, title, markdown, status_code, error, scraped_at, expires_at)
  values (lower(p_site->>'domain'), p_site->>'url', p_site->>'title', p_site->>'markdown',
          (p_site->>'statusCode')::integer, p_site->>'error', now(),
          now() + make_interval(secs => p_ttl_seconds))
  on conflict (domain) do update set
    url = excluded.url, title = excluded.title, markdown = excluded.markdown,
    status_code = excluded.status_code, error = excluded.error,
    scraped_at = excluded.scraped_at, expires_at = excluded.expires_at,
    -- a new page makes a new company profile
    summary = null, summary_product_id = null, summarized_at = null;
  return get_company_website(p_site->>'domain');
end;
$$;

-- A claimed (or composed) lead that compose refuses because its address, domain
-- or company domain is suppressed ends there: skipped with the reason, its
-- claim given back. Left claimed, it held the day's quota until its lease ran
-- out, went back to new, and was claimed and refused again on every later run.
create or replace function skip_suppressed_lead(p_lead_id bigint, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare
  l leads;
  b batches;
  n integer;
begin
  select * into l from leads where id = p_lead_id;
  if not found or l.status not in ('claimed', 'composed') then
    return jsonb_build_object('skipped', false);
  end if;
  -- the global lock order: the ledger row of the claim's day, then the lead
  select * into b from batches where id = l.batch_id;
  if b.id is not null then
    perform ledger_lock(b.sender_id, b.day);
  end if;
  update leads set status = 'skipped', status_reason = 'suppressed', lease_expires_at = null, updated_at = p_now
   where id = p_lead_id and status in ('claimed', 'composed') and batch_id is not distinct from l.batch_id
     and exists (select from send_blocked(leads.email, leads.company_domain));
  get diagnostics n = row_count;
  if n = 1 and b.id is not null and (select d.claimed > 0 from sender_days d where d.sender_id = b.sender_id and d.day = b.day) then
    perform ledger_adjust(b.sender_id, b.day, -1, 0, 0);
  end if;
  return jsonb_build_object('skipped', n = 1);
end;
$$;

-- ---------------------------------------------------------------------------
-- Cost
-- ---------------------------------------------------------------------------
-- p_usage: { "model", "requests", "promptTokens", "completionTokens" }.
create or replace function add_compose_usage(p_sender text, p_usage jsonb, p_drafts integer, p_rejected integer)
returns void language plpgsql volatile as $$
declare
  s senders;
begin
  select * into s from senders where id = p_sender;
  if not found or p_usage is null or p_usage->>'model' is null then
    return;
  end if;
  insert into compose_usage as u (sender_id, day, model, requests, prompt_tokens, completion_tokens, drafts, rejected)
  values (s.id, (now() at time zone s.timezone)::date, p_usage->>'model',
          coalesce((p_usage->>'requests')::integer, 0),
          coalesce((p_usage->>'promptTokens')::bigint, 0),
          coalesce((p_usage->>'completionTokens')::bigint, 0),
          p_drafts, p_rejected)
  on conflict (sender_id, day, model) do update set
    requests = u.requests + excluded.requests,
    prompt_tokens = u.prompt_tokens + excluded.prompt_tokens,
    completion_tokens = u.completion_tokens + excluded.completion_tokens,
    drafts = u.drafts + excluded.drafts,
    rejected = u.rejected + excluded.rejected;
end;
$$;

-- What composing cost a sender on one sender-local day (today by default).
create or replace function get_compose_usage(p_sender text, p_day date default null) returns jsonb
language plpgsql stable as $$
declare
  s senders;
  v_day date;
begin
  s := sender_or_raise(p_sender);
  v_day := coalesce(p_day, (now() at time zone s.timezone)::date);
  return (
    select jsonb_build_object(
      'requests', coalesce(sum(u.requests), 0),
      'promptTokens', coalesce(sum(u.prompt_tokens), 0),
      'completionTokens', coalesce(sum(u.completion_tokens), 0),
      'totalTokens', coalesce(sum(u.prompt_tokens + u.completion_tokens), 0),
      'drafts', coalesce(sum(u.drafts), 0),
      'rejected', coalesce(sum(u.rejected), 0),
      'models', coalesce(jsonb_agg(u.model order by u.model) filter (where u.model is not null), '[]'::jsonb))
    from compose_usage u where u.sender_id = s.id and u.day = v_day);
end;
$$;

create or replace function draft_cost_json(d drafts) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'language', d.language,
    'tokens', case when d.prompt_tokens is null then null else jsonb_build_object(
      'prompt', d.prompt_tokens, 'completion', d.completion_tokens,
      'total', d.prompt_tokens + d.completion_tokens) end);
$$;

-- ---------------------------------------------------------------------------
-- A draft the AI got wrong twice
-- ---------------------------------------------------------------------------
-- The lead (new or claimed) is skipped with the reason, its claim given back,
-- so the daily run does not compose it again; composing it explicitly later
-- (after the voice was tuned) and succeeding puts it back in line (save_draft).
-- A lead in any other state keeps it. The AI calls are counted either way.
create or replace function reject_draft(p_lead_id bigint, p_sender text, p_reason text, p_usage jsonb,
                                        p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare
  l leads;
  b batches;
  n integer;
begin
  perform add_compose_usage(p_sender, p_usage, 0, 1);
  select * into l from leads where id = p_lead_id;
  if not found or l.status not in ('new', 'claimed') then
    return jsonb_build_object('skipped', false);
  end if;
  -- the global lock order: the ledger row of the claim's day, then the lead
  if l.status = 'claimed' then
    select * into b from batches where id = l.batch_id;
    if b.id is not null then
      perform ledger_lock(b.sender_id, b.day);
    end if;
  end if;
  update leads set status = 'skipped', status_reason = left('draft_rejected: ' || p_reason, 500),
                   lease_expires_at = null, updated_at = p_now
   where id = p_lead_id and status = l.status and batch_id is not distinct from l.batch_id;
  get diagnostics n = row_count;
  if n = 1 and l.status = 'claimed' and b.id is not null then
    perform ledger_adjust(b.sender_id, b.day, -1, 0, 0);
  end if;
  return jsonb_build_object('skipped', n = 1);
end;
$$;

-- ---------------------------------------------------------------------------
-- The short profile of a recipient company
-- ---------------------------------------------------------------------------
create or replace function save_company_summary(p_domain text, p_summary text, p_product_id text)
returns jsonb language plpgsql volatile as $$
begin
  update company_websites
     set summary = p_summary, summary_product_id = p_product_id, summarized_at = now()
   where domain = lower(p_domain);
  return jsonb_build_object('saved', found);
end;
$$;
