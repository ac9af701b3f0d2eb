import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { assertFunctionName, DatabaseError, type Database, type SqlArgs } from './database';

/**
 * Supabase over HTTPS (PostgREST): every SQL function is called as
 * `supabase.rpc(fn, args)`. Migrations are applied with `supabase db push`;
 * the service only checks the schema version.
 */
export class SupabaseDatabase implements Database {
  readonly kind = 'supabase' as const;

  private constructor(private readonly client: SupabaseClient) {}

  static async open(url: string, serviceRoleKey: string): Promise<SupabaseDatabase> {
    const client = createClient(url, serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    });
    return new SupabaseDatabase(client);
  }

  /** PostgREST answers a set-returning function with a JSON array of its rows (already parsed by supabase-js). */
  async callEachAsJsonText(fn: string, args: SqlArgs = {}): Promise<string[]> {
    return (await this.call<unknown[]>(fn, args)).map((row) => JSON.stringify(row));
  }

  async call<T>(fn: string, args: SqlArgs = {}): Promise<T> {
    assertFunctionName(fn);
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) {
      if (v === undefined) continue;
      params[k] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v;
    }
    const { data, error } = await this.client.rpc(fn, params);
    if (error) {
      throw new DatabaseError(error.message, error.code || undefined, error.details || undefined);
    }
    return data as T;
  }

  async close(): Promise<void> {
    // supabase-js keeps no connection open; nothing to release.
  }
}
