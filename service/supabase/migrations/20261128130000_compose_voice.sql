-- Compose speaks for any company, in the recipient's language, at a known cost.
--   sender_profiles   who the sender's company is and how it writes (per sender;
--                     the sender 'default' is the shared default)
--   drafts            + the language and the tokens each draft cost
--   compose_usage     tokens per sender-local day (what stats report)
--   company_websites  + a short profile of the recipient company, made once from
--                     its page and reused for every later lead of the domain

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

-- ---------------------------------------------------------------------------
-- Sender profiles
-- ---------------------------------------------------------------------------
create or replace function sender_profile_fields(p sender_profiles) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'companyName', p.company_name,
    'offer', p.offer,
    'whyCustomersBuy', p.why_customers_buy,
    'tone', p.tone,
    'avoidPhrases', to_jsonb(p.avoid_phrases),
    'signature', p.signature,
    'language', p.language);
$$;

-- The profile compose uses: the sender's own fields over the default's.
create or replace function effective_sender_profile(p_sender text) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'companyName', coalesce(o.company_name, d.company_name),
    'offer', coalesce(o.offer, d.offer),
    'whyCustomersBuy', coalesce(o.why_customers_buy, d.why_customers_buy),
    'tone', coalesce(o.tone, d.tone),
    'avoidPhrases', coalesce(to_jsonb(coalesce(o.avoid_phrases, d.avoid_phrases)), '[]'::jsonb),
    'signature', coalesce(o.signature, d.signature),
    'language', coalesce(o.language, d.language, 'en'))
  from (select 1) one
  left join sender_profiles o on o.sender_id = p_sender
  left join sender_profiles d on d.sender_id = 'default';
$$;

create or replace function get_sender_profile(p_sender text) returns jsonb
language plpgsql stable as $$
declare
  p sender_profiles;
begin
  if not exists (select 1 from senders where id = p_sender) then
    raise exception using errcode = 'CR404', message = 'sender_not_found',
      detail = format('No sender has id "%s". Create it with PUT /v1/senders/%s.', p_sender, p_sender);
  end if;
  select * into p from sender_profiles where sender_id = p_sender;
  return jsonb_build_object(
    'sender', p_sender,
    'profile', sender_profile_fields(p),
    'effective', effective_sender_profile(p_sender),
    'updatedAt', p.updated_at);
end;
$$;

-- Fields absent from p_profile keep their value; null clears one (it then
-- comes from the default). Input is validated by the service.
create or replace function put_sender_profile(p_sender text, p_profile jsonb) returns jsonb
language plpgsql volatile as $$
begin
  if not exists (select 1 from senders where id = p_sender) then
    raise exception using errcode = 'CR404', message = 'sender_not_found',
      detail = format('No sender has id "%s". Create it with PUT /v1/senders/%s.', p_sender, p_sender);
  end if;
  insert into sender_profiles (sender_id) values (p_sender) on conflict (sender_id) do nothing;
  update sender_profiles set
    company_name      = case when p_profile ? 'companyName' then p_profile->>'companyName' else company_name end,
    offer             = case when p_profile ? 'offer' then p_profile->>'offer' else offer end,
    why_customers_buy = case when p_profile ? 'whyCustomersBuy' then p_profile->>'whyCustomersBuy' else why_customers_buy end,
    tone              = case when p_profile ? 'tone' then p_profile->>'tone' else tone end,
    avoid_phrases     = case when p_profile ? 'avoidPhrases' then
                          case when jsonb_typeof(p_profile->'avoidPhrases') = 'array'
                               then array(select jsonb_array_elements_text(p_profile->'avoidPhrases'))
                          end
                        else avoid_phrases end,
    signature         = case when p_profile ? 'signature' then p_profile->>'signature' else signature end,
    language          = case when p_profile ? 'language' then p_profile->>'language' else language end,
    updated_at        = now()
  where sender_id = p_sender;
  return get_sender_profile(p_sender);
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
  select * into s from senders where id = p_sender;
  if not found then
    raise exception using errcode = 'CR404', message = 'sender_not_found',
      detail = format('No sender has id "%s".', p_sender);
  end if;
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
    update sender_days set claimed = claimed - 1
     where sender_id = b.sender_id and day = b.day and claimed > 0;
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
