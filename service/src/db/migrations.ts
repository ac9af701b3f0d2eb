import fs from 'node:fs';
import path from 'node:path';
import type { Database, MigratableDatabase } from './database';
import { DatabaseError } from './database';

// Migrations follow the Supabase CLI convention (<YYYYMMDDHHMMSS>_<name>.sql in
// service/supabase/migrations) and are recorded in the CLI's own table, so
// `supabase db push` and the service agree on what a database already has.

export const MIGRATIONS_DIR = findMigrationsDir(__dirname);

/** The service's supabase/migrations, found upwards from here (src/db when run from source, dist when bundled). */
function findMigrationsDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'supabase', 'migrations');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`No supabase/migrations folder above ${from}`);
  }
}
/** Held (transaction-scoped) while migrating, so replicas starting together take turns. */
export const MIGRATION_LOCK_ID = 7_262_026_001;

export interface Migration {
  version: string;
  name: string;
  file: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .map((file) => /^(\d{14})_(.+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: m[1]!, name: m[2]!, file: path.join(dir, m[0]) }))
    .sort((a, b) => a.version.localeCompare(b.version));
}

/** Applies every pending migration, each in order, in one locked transaction. */
export async function applyMigrations(db: MigratableDatabase, migrations = listMigrations()): Promise<string[]> {
  const applied: string[] = [];
  await db.migrate(async (exec) => {
    await exec(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text);`);
    const rows = (await exec('select version from supabase_migrations.schema_migrations', [])) as {
      version: string;
    }[];
    const have = new Set(rows.map((r) => r.version));
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      await exec(fs.readFileSync(m.file, 'utf8'));
      await exec('insert into supabase_migrations.schema_migrations (version, name) values ($1, $2)', [
        m.version,
        m.name,
      ]);
      applied.push(`${m.version}_${m.name}`);
    }
  });
  return applied;
}

export class SchemaBehindError extends Error {
  override name = 'SchemaBehindError';
  constructor(readonly missing: Migration[]) {
    super(
      `The database schema is behind: missing migration${missing.length > 1 ? 's' : ''} ` +
        missing.map((m) => `${m.version}_${m.name}.sql`).join(', ') +
        '. Apply them (for Supabase: `supabase db push` from service/), then start again.',
    );
  }
}

/** The newest migration the database has; throws SchemaBehindError naming what is missing. */
export async function checkSchema(db: Database, migrations = listMigrations()): Promise<string> {
  let versions: string[];
  try {
    versions = (await db.call<{ versions: string[] }>('corofy_schema_state')).versions;
  } catch (err) {
    // No state function: not one Corofy migration has run on this database.
    if (err instanceof DatabaseError && ['42883', 'PGRST202', '3F000', '42P01'].includes(err.sqlState ?? '')) {
      throw new SchemaBehindError(migrations);
    }
    throw err;
  }
  const have = new Set(versions);
  const missing = migrations.filter((m) => !have.has(m.version));
  if (missing.length > 0) throw new SchemaBehindError(missing);
  return migrations.at(-1)?.version ?? 'none';
}
