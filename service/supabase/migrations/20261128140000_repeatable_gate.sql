-- A gate call sent twice (its answer was lost to a dropped connection or a
-- database restart, and the node sends it again) must answer the same: the
-- emails it leased for sending now come back as "send now" to the caller that
-- holds its key, not as "already gated" (they would never be sent, and sit in
-- `sending` until a person reviews them). A call with another key still gets
-- them as "already gated", so two executions never both send one email.

alter table sends add column if not exists gate_key text;

create index if not exists sends_gate_key on sends (gate_key) where gate_key is not null;

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
  update sends set gate_key = p_idempotency_key
   where id in (select (x->>'sendId')::bigint
                  from jsonb_array_elements((v_result->'sendNow') || (v_result->'scheduled')) x);

  select coalesce(array_agg(s.id), '{}') into v_mine
    from jsonb_array_elements(v_result->'alreadyGated') x
    join sends s on s.id = (x->>'sendId')::bigint
   where s.gate_key = p_idempotency_key and s.sender_id = p_sender and s.status in ('sending', 'scheduled');
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
