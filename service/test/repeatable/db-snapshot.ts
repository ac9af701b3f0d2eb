// Test support (not product): every row of every table, as one digest per table —
// what "the second request changed nothing" compares.
import { rawSql } from '../support/sends-fixture';
import type { TestService } from '../support/test-service';

export type Snapshot = Record<string, { rows: number; digest: string }>;

export async function snapshot(svc: TestService): Promise<Snapshot> {
  const q = rawSql(svc);
  const tables: { tablename: string }[] = await q(`select tablename from pg_tables where schemaname = 'public' order by tablename`);
  const out: Snapshot = {};
  for (const { tablename } of tables) {
    const [r] = await q(
      `select count(*)::int as rows, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest
         from public.${JSON.stringify(tablename)} t`,
    );
    out[tablename] = r;
  }
  return out;
}
