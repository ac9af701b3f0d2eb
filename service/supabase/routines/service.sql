-- Corofy's SQL functions, one file per capability: the one place each function
-- is written. The service calls only functions, one call per request, the same
-- over PGlite, node-postgres and supabase-js (rpc). Every function returns one
-- json or jsonb value shaped for the HTTP API (camelCase, ids as text); every
-- clock is a parameter (p_now) so tests can walk through days.
-- Domain errors are raised with SQLSTATE 'CR000' and a stable code as the
-- message (e.g. 'sender_not_found'); the detail is a sentence about the data,
-- never about HTTP. The service maps each code to a problem in one table
-- (service/src/app/domain-problems.ts).
--
-- This file: the schema state the service checks at start, and settings.

-- Which migrations this database has, and the checksum each file had when it
-- was applied: the service compares both with its own files at start and
-- refuses a database that is behind or whose history was edited.
create or replace function corofy_schema_state() returns jsonb
language sql stable security definer set search_path = public, pg_temp as $$
  select jsonb_build_object(
    'versions', coalesce((select jsonb_agg(version order by version)
                          from supabase_migrations.schema_migrations), '[]'::jsonb),
    'checksums', coalesce((select jsonb_object_agg(version, sha256) from migration_checksums), '{}'::jsonb));
$$;

-- Records the checksums of applied migrations that have none yet (a database
-- migrated by `supabase db push`: its files are recorded as they are at the
-- service's first start). p_checksums: [{ version, name, sha256 }].
create or replace function record_migration_checksums(p_checksums jsonb) returns jsonb
language plpgsql volatile security definer set search_path = public, pg_temp as $$
begin
  insert into migration_checksums (version, name, sha256)
  select x->>'version', x->>'name', x->>'sha256'
    from jsonb_array_elements(p_checksums) x
   where x->>'version' in (select version from supabase_migrations.schema_migrations)
  on conflict (version) do nothing;
  return corofy_schema_state();
end;
$$;

-- First writer wins; every replica then reads the same value.
create or replace function ensure_setting(p_name text, p_value text) returns jsonb
language plpgsql volatile as $$
declare v text;
begin
  insert into service_settings (name, value) values (p_name, p_value) on conflict (name) do nothing;
  select value into v from service_settings where name = p_name;
  return to_jsonb(v);
end;
$$;
