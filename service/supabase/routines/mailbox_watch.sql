-- The IMAP watcher: which replica watches which mailbox (a lease), where each
-- folder was read up to (UIDVALIDITY + last UID), and the mailbox's health.

-- Senders whose mailbox has IMAP settings: the ones to watch.
create or replace function imap_senders() returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(s.sender_id order by s.sender_id), '[]'::jsonb)
    from mailboxes s where s.imap is not null;
$$;

-- Takes or renews the lease; true when p_holder holds it now.
create or replace function take_mailbox_lease(p_sender text, p_holder text, p_seconds integer, p_now timestamptz default now())
returns boolean language plpgsql volatile as $$
declare v_holder text;
begin
  insert into mailbox_watch (sender_id, holder, lease_expires_at, updated_at)
  values (p_sender, p_holder, p_now + make_interval(secs => p_seconds), p_now)
  on conflict (sender_id) do update
     set holder = excluded.holder, lease_expires_at = excluded.lease_expires_at, updated_at = p_now
   where mailbox_watch.holder = p_holder or mailbox_watch.holder is null
      or mailbox_watch.lease_expires_at is null or mailbox_watch.lease_expires_at <= p_now
  returning holder into v_holder;
  return v_holder is not distinct from p_holder and v_holder is not null;
end;
$$;

create or replace function release_mailbox_lease(p_sender text, p_holder text, p_now timestamptz default now())
returns jsonb language sql volatile as $$
  update mailbox_watch set holder = null, lease_expires_at = null, connected = false, updated_at = p_now
   where sender_id = p_sender and holder = p_holder;
  select '{}'::jsonb;
$$;

-- Health as the watcher sees it; only the lease holder may write it.
create or replace function report_mailbox_health(p_sender text, p_holder text, p_connected boolean, p_error text,
                                                 p_now timestamptz default now())
returns jsonb language sql volatile as $$
  update mailbox_watch
     set connected = p_connected,
         last_error = coalesce(p_error, last_error),
         last_error_at = case when p_error is null then last_error_at else p_now end,
         updated_at = p_now
   where sender_id = p_sender and holder = p_holder;
  select '{}'::jsonb;
$$;

create or replace function mailbox_health(p_sender text) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'watched', coalesce(w.holder is not null and w.lease_expires_at > now(), false),
    'connected', coalesce(w.connected and w.lease_expires_at > now(), false),
    'lastMessageAt', w.last_message_at, 'lastError', w.last_error, 'lastErrorAt', w.last_error_at,
    'folders', (select coalesce(jsonb_agg(jsonb_build_object('folder', f.folder, 'uidValidity', f.uid_validity::text,
                                                             'lastUid', f.last_uid) order by f.folder), '[]'::jsonb)
                  from mailbox_folders f where f.sender_id = p_sender))
  from (select p_sender as id) s left join mailbox_watch w on w.sender_id = s.id;
$$;

-- Where to read a folder from. A new UIDVALIDITY means the server renumbered
-- the folder: read it all again (Message-IDs keep every message recorded once).
create or replace function open_mailbox_folder(p_sender text, p_folder text, p_uid_validity numeric, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare f mailbox_folders; v_reset boolean := false;
begin
  select * into f from mailbox_folders where sender_id = p_sender and folder = p_folder for update;
  if not found then
    insert into mailbox_folders (sender_id, folder, uid_validity, last_uid, updated_at)
    values (p_sender, p_folder, p_uid_validity, 0, p_now) returning * into f;
  elsif f.uid_validity <> p_uid_validity then
    update mailbox_folders set uid_validity = p_uid_validity, last_uid = 0, updated_at = p_now
     where sender_id = p_sender and folder = p_folder returning * into f;
    v_reset := true;
  end if;
  return jsonb_build_object('lastUid', f.last_uid, 'reset', v_reset);
end;
$$;

-- One message read from a folder: recorded (once, by Message-ID) and the
-- folder's position moved past it, in one transaction. A watcher killed at any
-- point reads the message again and finds it recorded.
create or replace function record_mailbox_message(p_message jsonb, p_sender text, p_holder text, p_folder text,
                                                  p_uid_validity numeric, p_uid bigint, p_now timestamptz default now())
returns jsonb language plpgsql volatile as $$
declare v_result jsonb;
begin
  -- only the lease holder moves the position (a replica that lost the lease stops here)
  perform 1 from mailbox_watch where sender_id = p_sender and holder = p_holder for update;
  if not found then
    raise exception using errcode = 'CR000', message = 'mailbox_lease_lost',
      detail = format('Another replica watches the mailbox of "%s" now.', p_sender);
  end if;
  v_result := case when p_message is null then null else record_inbound(p_message, p_sender, p_now) end;
  update mailbox_folders set last_uid = greatest(last_uid, p_uid), updated_at = p_now
   where sender_id = p_sender and folder = p_folder and uid_validity = p_uid_validity;
  update mailbox_watch set last_message_at = p_now, updated_at = p_now where sender_id = p_sender;
  return coalesce(v_result, '{}'::jsonb);
end;
$$;
