-- Supabase exposes the public schema through its REST API to the `anon` and
-- `authenticated` roles (anyone holding the project's anon key). Corofy's data
-- (leads, emails, suppressions) is for the service alone: it connects as the
-- owner (DATABASE_URL) or as service_role (supabase-js), which bypass RLS.
-- So: row level security on, with no policy, on every table; and neither role
-- may read a table or call a function. On plain Postgres and PGlite the roles do
-- not exist and only the RLS switch applies (harmless for the owner).
-- A later migration that adds a table must enable RLS on it too.

do $$
declare t record;
begin
  for t in select tablename from pg_tables where schemaname = 'public' loop
    execute format('alter table public.%I enable row level security', t.tablename);
  end loop;
end;
$$;

do $$
declare r text;
begin
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_roles where rolname = r) then
      execute format('revoke all on all tables in schema public from %I', r);
      execute format('revoke all on all sequences in schema public from %I', r);
      execute format('revoke execute on all functions in schema public from %I', r);
      execute format('alter default privileges in schema public revoke all on tables from %I', r);
      execute format('alter default privileges in schema public revoke execute on functions from %I', r);
    end if;
  end loop;
  -- Functions are executable by PUBLIC by default, which includes both roles.
  execute 'revoke execute on all functions in schema public from public';
  execute 'alter default privileges in schema public revoke execute on functions from public';
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on all functions in schema public to service_role';
    execute 'grant all on all tables in schema public to service_role';
    execute 'grant all on all sequences in schema public to service_role';
  end if;
end;
$$;
