import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database, MigratableDatabase } from './database';
import { DatabaseError } from './database';

// Migrations follow the Supabase CLI convention (<YYYYMMDDHHMMSS>_<name>.sql in
// service/supabase/migrations) and are recorded in the CLI's own table, so
// `supabase db push` and the service agree on what a database already has.
// Beside it, migration_checksums keeps the SHA-256 of each file as applied: a
// file edited after a database applied it is refused at start, by name.

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

/**
 * The versions of Corofy 0.1.0's migrations. They were folded into one file per
 * capability before the first release, so a database made by 0.1.0 cannot be
 * brought forward by migrations: it is recognised and told what to do.
 */
export const RELEASE_0_1_0_VERSIONS = [
  '20261128000000',
  '20261128000100',
  '20261128010000',
  '20261128020000',
  '20261128030000',
  '20261128040000',
];

export interface Migration {
  version: string;
  name: string;
  file: string;
  sha256: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .map((file) => /^(\d{14})_(.+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const file = path.join(dir, m[0]);
      return { version: m[1]!, name: m[2]!, file, sha256: sha256(fs.readFileSync(file)) };
    })
    .sort((a, b) => a.version.localeCompare(b.version));
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function migrationFileName(m: Pick<Migration, 'version' | 'name'>): string {
  return `${m.version}_${m.name}.sql`;
}

/** What a database says it has: applied versions and the checksums recorded for them. */
export interface SchemaState {
  versions: string[];
  checksums: Record<string, string>;
}

/** Every refusal of a database's schema; the service does not start on one. */
export abstract class SchemaError extends Error {
  abstract readonly code: string;
}

export class SchemaBehindError extends SchemaError {
  override name = 'SchemaBehindError';
  readonly code = 'schema_behind';
  constructor(readonly missing: Migration[]) {
    super(
      `The database schema is behind: missing migration${missing.length > 1 ? 's' : ''} ` +
        missing.map(migrationFileName).join(', ') +
        '. Apply them (for Supabase: `supabase db push` from service/), then start again.',
    );
  }
}

export class SchemaEditedError extends SchemaError {
  override name = 'SchemaEditedError';
  readonly code = 'schema_edited';
  constructor(readonly edited: Migration[]) {
    super(
      `Migration${edited.length > 1 ? 's' : ''} ${edited.map(migrationFileName).join(', ')} ` +
        `changed after this database applied ${edited.length > 1 ? 'them' : 'it'}: a migration is never edited ` +
        'once applied, only added to. Restore the file as it was (git log -- service/supabase/migrations) and ' +
        'put the change in a new migration, or, for a development database, recreate it.',
    );
  }
}

export class SchemaPrereleaseError extends SchemaError {
  override name = 'SchemaPrereleaseError';
  readonly code = 'schema_prerelease';
  constructor() {
    super(
      'This database was created by Corofy 0.1.0, whose migrations were folded into one file per capability ' +
        'before the first release: it cannot be upgraded in place. Keep what you need (GET /v1/leads/:id, ' +
        'GET /v1/suppressions with the 0.1.0 service, or pg_dump --data-only), then start on a fresh database: ' +
        'delete COROFY_DATA_DIR (PGlite, default ./.corofy/data), or drop and create the DATABASE_URL database, ' +
        'or on Supabase `supabase db reset --linked` (it erases the project database), then start again.',
    );
  }
}

/**
 * The one verdict on a database's schema against this build's migrations:
 * made by 0.1.0, an applied file edited since, or files missing (in that order).
 * Versions the database has and this build does not know are left alone (a newer
 * replica may have migrated during a rolling deploy).
 */
export function schemaVerdict(state: SchemaState, migrations: Migration[]): SchemaError | undefined {
  const have = new Set(state.versions);
  const known = new Set(migrations.map((m) => m.version));
  if (RELEASE_0_1_0_VERSIONS.some((v) => have.has(v) && !known.has(v))) return new SchemaPrereleaseError();
  const edited = migrations.filter((m) => state.checksums[m.version] !== undefined && state.checksums[m.version] !== m.sha256);
  if (edited.length > 0) return new SchemaEditedError(edited);
  const missing = migrations.filter((m) => !have.has(m.version));
  if (missing.length > 0) return new SchemaBehindError(missing);
  return undefined;
}

/** Applies every pending migration, each in order, in one locked transaction. */
export async function applyMigrations(db: MigratableDatabase, migrations = listMigrations()): Promise<string[]> {
  const applied: string[] = [];
  await db.migrate(async (exec) => {
    await exec(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text);`);
    const state = await readStateForMigration(exec);
    const verdict = schemaVerdict(state, migrations);
    if (verdict && !(verdict instanceof SchemaBehindError)) throw verdict;
    const have = new Set(state.versions);
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      await exec(fs.readFileSync(m.file, 'utf8'));
      await exec('insert into supabase_migrations.schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      applied.push(`${m.version}_${m.name}`);
    }
    await recordChecksums(exec, migrations);
  });
  return applied;
}

type Exec = (sql: string, params?: unknown[]) => Promise<unknown[]>;

async function readStateForMigration(exec: Exec): Promise<SchemaState> {
  const versions = ((await exec('select version from supabase_migrations.schema_migrations', [])) as { version: string }[]).map(
    (r) => r.version,
  );
  const [table] = (await exec(`select to_regclass('public.migration_checksums') is not null as present`, [])) as {
    present: boolean;
  }[];
  const checksums: Record<string, string> = {};
  if (table?.present) {
    for (const r of (await exec('select version, sha256 from migration_checksums', [])) as { version: string; sha256: string }[]) {
      checksums[r.version] = r.sha256;
    }
  }
  return { versions, checksums };
}

/** Records the checksum of every applied migration that has none yet (first seen as it is now). */
async function recordChecksums(exec: Exec, migrations: Migration[]): Promise<void> {
  await exec(
    `insert into migration_checksums (version, name, sha256)
     select x->>'version', x->>'name', x->>'sha256' from jsonb_array_elements($1::text::jsonb) x
      where x->>'version' in (select version from supabase_migrations.schema_migrations)
     on conflict (version) do nothing`,
    [JSON.stringify(migrations.map(({ version, name, sha256 }) => ({ version, name, sha256 })))],
  );
}

/**
 * Checks the schema in every mode (over the database's own functions, so it
 * works on supabase-js too) and returns the newest migration version. A
 * database migrated by `supabase db push` has no checksums yet: the files are
 * recorded as they are now, and compared from then on.
 */
export async function checkSchema(db: Database, migrations = listMigrations()): Promise<string> {
  let state: Partial<SchemaState>;
  try {
    state = await db.call<Partial<SchemaState>>('corofy_schema_state');
  } catch (err) {
    // No state function: not one Corofy migration has run on this database.
    if (err instanceof DatabaseError && ['42883', 'PGRST202', '3F000', '42P01'].includes(err.sqlState ?? '')) {
      throw new SchemaBehindError(migrations);
    }
    throw err;
  }
  const full: SchemaState = { versions: state.versions ?? [], checksums: state.checksums ?? {} };
  const verdict = schemaVerdict(full, migrations);
  if (verdict) throw verdict;
  if (migrations.some((m) => full.checksums[m.version] === undefined)) {
    await db.call('record_migration_checksums', {
      p_checksums: migrations.map(({ version, name, sha256 }) => ({ version, name, sha256 })),
    });
  }
  return migrations.at(-1)?.version ?? 'none';
}
