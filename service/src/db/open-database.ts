import type { DatabaseTarget } from '../config/env';
import type { Database, MigratableDatabase } from './database';
import { applyMigrations, checkSchema } from './migrations';

export interface OpenedDatabase {
  db: Database;
  schemaVersion: string;
  appliedMigrations: string[];
}

/**
 * Opens the configured database, applies pending migrations where the service
 * owns the schema (PGlite, DATABASE_URL), and refuses a schema that is behind.
 */
export async function openDatabase(target: DatabaseTarget, autoMigrate = true): Promise<OpenedDatabase> {
  // Each transport is loaded only when chosen: PGlite's WASM runtime and
  // supabase-js cost memory a Postgres deployment has no use for.
  const db: Database =
    target.kind === 'pglite'
      ? await (await import('./pglite-database')).PgliteDatabase.open(target.dataDir)
      : target.kind === 'postgres'
        ? await (await import('./postgres-database')).PostgresDatabase.open(target)
        : await (await import('./supabase-database')).SupabaseDatabase.open(target.url, target.serviceRoleKey);
  try {
    const appliedMigrations = autoMigrate && isMigratable(db) ? await applyMigrations(db) : [];
    const schemaVersion = await checkSchema(db);
    return { db, schemaVersion, appliedMigrations };
  } catch (err) {
    await db.close();
    throw err;
  }
}

function isMigratable(db: Database): db is MigratableDatabase {
  return typeof (db as Partial<MigratableDatabase>).migrate === 'function';
}
