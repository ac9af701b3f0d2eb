-- Mailboxes: how each sender's email leaves (delivery 'n8n' or 'corofy') and
-- the sender's own SMTP and IMAP settings. Secrets arrive sealed by the service
-- (AES-256-GCM, COROFY_SECRET_KEY) and are stored as they came: the database never
-- sees a password or a token in clear, and no function here returns one except
-- mailbox_settings, which the service opens itself.

-- What the API shows of one server's settings: never a secret, only whether each is set.
create or replace function mailbox_server_json(p_half text, p_server jsonb, p_secrets jsonb) returns jsonb
language sql immutable as $$
  select case when p_server is null then null else jsonb_build_object(
    'host', p_server->>'host',
    'port', (p_server->>'port')::integer,
    'tls', p_server->>'tls',
    'user', p_server->>'user',
    'auth', case when p_server->'oauth2' is not null and p_server->'oauth2' <> 'null'::jsonb then 'oauth2' else 'password' end,
    'passwordSet', p_secrets ? (p_half || '.password'),
    'oauth2', case when p_server->'oauth2' is null or p_server->'oauth2' = 'null'::jsonb then null else jsonb_build_object(
      'clientId', p_server->'oauth2'->>'clientId',
      'tokenUrl', p_server->'oauth2'->>'tokenUrl',
      'clientSecretSet', p_secrets ? (p_half || '.oauth2.clientSecret'),
      'refreshTokenSet', p_secrets ? (p_half || '.oauth2.refreshToken')) end) end;
$$;

create or replace function mailbox_json(p_sender text) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'delivery', coalesce(m.delivery, 'n8n'),
    'unsubscribeEmail', m.unsubscribe_email,
    'smtp', mailbox_server_json('smtp', m.smtp, coalesce(m.secrets, '{}'::jsonb)),
    'imap', mailbox_server_json('imap', m.imap, coalesce(m.secrets, '{}'::jsonb)),
    'paused', case when m.paused_at is null then null else jsonb_build_object(
      'at', m.paused_at, 'code', m.paused_code, 'reason', m.paused_reason) end)
  from (select 1) one left join mailboxes m on m.sender_id = p_sender;
$$;

-- A sender as the API shows it: its settings and its mailbox.
create or replace function sender_view(p_id text) returns jsonb
language sql stable as $$
  select get_sender(p_id) || mailbox_json(p_id);
$$;

create or replace function list_sender_views() returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(sender_json(s) || mailbox_json(s.id) order by s.id), '[]'::jsonb) from senders s;
$$;

-- Creates or updates a sender and its mailbox in one transaction.
-- p_mailbox: { delivery?, unsubscribeEmail?, smtp?, imap? (an object, or null to remove),
--              setSecrets: { place: sealed }, dropSecrets: [place] }.
-- Secrets not named in either keep their value (they are write-only: a client
-- that read a sender cannot send them back). New SMTP settings lift a pause:
-- a person entered the mailbox again.
create or replace function put_sender(p_id text, p_sender jsonb, p_mailbox jsonb) returns jsonb
language plpgsql volatile as $$
declare
  m mailboxes;
  s senders;
begin
  perform upsert_sender(p_id, p_sender);
  if p_mailbox <> '{}'::jsonb then
    insert into mailboxes (sender_id) values (p_id) on conflict (sender_id) do nothing;
    update mailboxes set
      delivery = coalesce(p_mailbox->>'delivery', delivery),
      unsubscribe_email = case when p_mailbox ? 'unsubscribeEmail' then p_mailbox->>'unsubscribeEmail' else unsubscribe_email end,
      smtp = case when p_mailbox ? 'smtp' then nullif(p_mailbox->'smtp', 'null'::jsonb) else smtp end,
      imap = case when p_mailbox ? 'imap' then nullif(p_mailbox->'imap', 'null'::jsonb) else imap end,
      secrets = (secrets - coalesce(array(select jsonb_array_elements_text(p_mailbox->'dropSecrets')), '{}'::text[]))
                || coalesce(p_mailbox->'setSecrets', '{}'::jsonb),
      paused_at = case when p_mailbox ? 'smtp' then null else paused_at end,
      paused_code = case when p_mailbox ? 'smtp' then null else paused_code end,
      paused_reason = case when p_mailbox ? 'smtp' then null else paused_reason end,
      updated_at = now()
    where sender_id = p_id
    returning * into m;
    select * into s from senders where id = p_id;
    if m.delivery = 'corofy' and m.smtp is null then
      raise exception using errcode = 'CR000', message = 'mailbox_incomplete',
        detail = 'Delivery "corofy" sends through the sender''s own mailbox: give its "smtp" settings (host, port, tls, user, password or oauth2).';
    end if;
    if m.delivery = 'corofy' and s.from_email is null then
      raise exception using errcode = 'CR000', message = 'mailbox_incomplete',
        detail = 'Delivery "corofy" needs the sender''s "fromEmail" (the From address and the domain of our Message-IDs).';
    end if;
  end if;
  return sender_view(p_id);
end;
$$;

-- Everything needed to send from (or read) one sender's mailbox, secrets still
-- sealed. Only the service calls it, and opens the secrets itself.
create or replace function mailbox_settings(p_sender text) returns jsonb
language plpgsql stable as $$
declare v jsonb;
begin
  select jsonb_build_object(
    'senderId', s.id,
    'fromName', s.from_name,
    'fromEmail', s.from_email,
    'delivery', coalesce(m.delivery, 'n8n'),
    'unsubscribeEmail', m.unsubscribe_email,
    'smtp', m.smtp,
    'imap', m.imap,
    'secrets', coalesce(m.secrets, '{}'::jsonb),
    'paused', case when m.paused_at is null then null else jsonb_build_object(
      'at', m.paused_at, 'code', m.paused_code, 'reason', m.paused_reason) end)
  into v
  from senders s left join mailboxes m on m.sender_id = s.id
  where s.id = p_sender;
  if v is null then
    perform sender_or_raise(p_sender);
  end if;
  return v;
end;
$$;

-- Stops a mailbox's sending until a person looks (new settings, or resume).
create or replace function pause_mailbox(p_sender text, p_code text, p_reason text, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
begin
  insert into mailboxes (sender_id) values (p_sender) on conflict (sender_id) do nothing;
  update mailboxes set paused_at = coalesce(paused_at, p_now), paused_code = p_code, paused_reason = p_reason,
    updated_at = p_now
  where sender_id = p_sender;
  return mailbox_json(p_sender);
end;
$$;

create or replace function resume_mailbox(p_sender text) returns jsonb
language plpgsql volatile as $$
begin
  perform get_sender(p_sender);
  update mailboxes set paused_at = null, paused_code = null, paused_reason = null, updated_at = now()
  where sender_id = p_sender;
  return sender_view(p_sender);
end;
$$;

-- Key rotation: every stored secret, and a way to replace them resealed
-- (only where the value is still the one that was read).
create or replace function list_mailbox_secrets() returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('senderId', sender_id, 'secrets', secrets)), '[]'::jsonb)
  from mailboxes where secrets <> '{}'::jsonb;
$$;

create or replace function reseal_mailbox_secrets(p_sender text, p_old jsonb, p_new jsonb) returns boolean
language plpgsql volatile as $$
begin
  update mailboxes set secrets = p_new where sender_id = p_sender and secrets = p_old;
  return found;
end;
$$;
