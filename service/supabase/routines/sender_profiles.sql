-- Sender profiles: who a sender's emails speak for and how they sound. The
-- sender 'default' is the shared default every other sender inherits field by field.

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
  perform sender_or_raise(p_sender);
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
  perform sender_or_raise(p_sender);
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

