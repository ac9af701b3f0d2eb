import type { DatabaseTarget } from '../config/env';
import type { Database } from './database';
import { applyMigrations, checkSchema } from './migrations';
import { PgliteDatabase } from './pglite-database';
import { PostgresDatabase } from './postgres-database';
import { SupabaseDatabase } from './supabase-database';

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
  const db =
    target.kind === 'pglite'
      ? await PgliteDatabase.open(target.dataDir)
      : target.kind === 'postgres'
        ? await PostgresDatabase.open(target.url, target.poolSize)
        : await SupabaseDatabase.open(target.url, target.serviceRoleKey);
  try {
    const appliedMigrations = autoMigrate && 'migrate' in db ? await applyMigrations(db) : [];
    const schemaVersion = await checkSchema(db);
    return { db, schemaVersion, appliedMigrations };
  } catch (err) {
    await db.close();
    throw err;
  }
}
