import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import pg from 'pg';
import {
  listMigrations,
  applyMigrations,
  SchemaBehindError,
  SchemaEditedError,
  SchemaPrereleaseError,
  RELEASE_0_1_0_VERSIONS,
} from '../../src/db/migrations';
import { planRoutinesMigration, readRoutines, ROUTINES_DIR } from '../../src/db/routines-migration';
import { DOMAIN_PROBLEMS } from '../../src/app/domain-problems';
import { PostgresDatabase } from '../../src/db/postgres-database';
import { PgliteDatabase } from '../../src/db/pglite-database';
import type { MigratableDatabase } from '../../src/db/database';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestService, TEST_API_KEY, TEST_SECRET_KEY } from '../support/test-service';

const ROOT = path.resolve(__dirname, '../../..');

async function openRaw(database: TestDatabase): Promise<MigratableDatabase> {
  return database.kind === 'postgres'
    ? PostgresDatabase.open({ url: database.url!, poolSize: 2, queryTimeoutMs: 30_000 })
    : PgliteDatabase.open(database.env.COROFY_DATA_DIR!);
}

test('a database one migration behind is refused, naming the missing migration', async () => {
  const database = await createTestDatabase();
  try {
    const all = listMigrations();
    const last = all.at(-1)!;
    const raw = await openRaw(database);
    await applyMigrations(raw, all.slice(0, -1));
    await raw.close();

    // in-process: the start fails with SchemaBehindError naming the file
    await expect(startTestService({ COROFY_AUTO_MIGRATE: 'false' }, database)).rejects.toThrow(SchemaBehindError);
    await expect(startTestService({ COROFY_AUTO_MIGRATE: 'false' }, database)).rejects.toThrow(
      `${last.version}_${last.name}.sql`,
    );

    // the real entry point: exits non-zero and says which migration is missing
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'service/src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...database.env, COROFY_AUTO_MIGRATE: 'false', COROFY_API_KEY: TEST_API_KEY, COROFY_SECRET_KEY: TEST_SECRET_KEY, PORT: '0', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`missing migration ${last.version}_${last.name}.sql`);

    // with auto-migrate (the default) the same database is brought up to date
    const svc = await startTestService({}, database);
    const ready = await svc.api('GET', '/readyz');
    expect(ready.body.schemaVersion).toBe(last.version);
    await svc.close();
  } finally {
    await database.drop();
  }
});

/** Runs one statement as the database owner (test set-up that no API can do). */
async function ownerSql(database: TestDatabase, sql: string, params?: unknown[]): Promise<void> {
  if (database.kind === 'postgres') {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    await c.query(sql, params).finally(() => c.end());
  } else {
    const raw = await PgliteDatabase.open(database.env.COROFY_DATA_DIR!);
    await raw.migrate(async (exec) => void (await exec(sql, params)));
    await raw.close();
  }
}

function startEntryPoint(database: TestDatabase) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'service/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...database.env, COROFY_API_KEY: TEST_API_KEY, COROFY_SECRET_KEY: TEST_SECRET_KEY, PORT: '0', LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('a migration edited after the database applied it stops the start, naming the file', async () => {
  const database = await createTestDatabase();
  try {
    const svc = await startTestService({}, database);
    await svc.close();
    const edited = listMigrations().find((m) => m.name === 'leads')!;
    // what the database recorded no longer matches the file: as if the file had been edited since
    await ownerSql(database, `update migration_checksums set sha256 = repeat('0', 64) where version = $1`, [edited.version]);

    await expect(startTestService({}, database)).rejects.toThrow(SchemaEditedError);
    const run = startEntryPoint(database);
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`Migration ${edited.version}_leads.sql changed after this database applied it`);
  } finally {
    await database.drop();
  }
});

test('a database made by Corofy 0.1.0 is told it cannot be upgraded in place and what to do', async () => {
  const database = await createTestDatabase();
  try {
    // what 0.1.0 left: its migration versions and its schema-state function (versions only)
    await ownerSql(
      database,
      `create schema supabase_migrations;
       create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
       insert into supabase_migrations.schema_migrations (version)
         select unnest(array['${RELEASE_0_1_0_VERSIONS.join("','")}', '20261128235900']);
       create function corofy_schema_state() returns jsonb language sql stable as $$
         select jsonb_build_object('versions', (select jsonb_agg(version order by version) from supabase_migrations.schema_migrations));
       $$;`,
    );
    await expect(startTestService({}, database)).rejects.toThrow(SchemaPrereleaseError);
    await expect(startTestService({ COROFY_AUTO_MIGRATE: 'false' }, database)).rejects.toThrow(SchemaPrereleaseError);
    const run = startEntryPoint(database);
    expect(run.status).toBe(3);
    expect(run.stderr).toContain('created by Corofy 0.1.0');
    expect(run.stderr).toContain('delete COROFY_DATA_DIR');
  } finally {
    await database.drop();
  }
});

test('the generated routines migration is what the routine files say (else: npm run db:routines)', () => {
  const plan = planRoutinesMigration();
  const current = plan.current && fs.readFileSync(plan.current.file, 'utf8');
  if (plan.write) {
    expect({ file: plan.write.file, upToDate: current === plan.write.content }).toEqual({
      file: plan.current?.file,
      upToDate: true,
    });
  }
  expect(readRoutines().length).toBeGreaterThan(0);
});

test('every SQL function is written in one place: its routine file, never a versioned migration', () => {
  const where = new Map<string, string[]>();
  const sources = [
    ...readRoutines().map((r) => ({ at: `routines/${r.file}`, sql: r.sql })),
    ...listMigrations()
      .filter((m) => m.name !== 'routines')
      .map((m) => ({ at: `migrations/${m.version}_${m.name}.sql`, sql: fs.readFileSync(m.file, 'utf8') })),
  ];
  for (const { at, sql } of sources) {
    for (const m of sql.matchAll(/create\s+(?:or\s+replace\s+)?function\s+(?:public\.)?(\w+)\s*\(/gi)) {
      where.set(m[1]!.toLowerCase(), [...(where.get(m[1]!.toLowerCase()) ?? []), at]);
    }
  }
  const twice = [...where].filter(([, at]) => at.length > 1).map(([fn, at]) => `${fn}: ${at.join(', ')}`);
  expect(twice).toEqual([]);
  // a function in a versioned migration would be frozen there at the first release
  const inMigrations = [...where].filter(([, at]) => at.some((a) => a.startsWith('migrations/'))).map(([fn, at]) => `${fn}: ${at.join(', ')}`);
  expect(inMigrations).toEqual([]);
  expect(fs.existsSync(ROUTINES_DIR)).toBe(true);
});

/** Each function of the routines, by name, with its file and body. */
function routineFunctions(): { name: string; file: string; body: string }[] {
  return readRoutines().flatMap((r) =>
    [...r.sql.matchAll(/create or replace function (\w+)\([\s\S]*?\$\$([\s\S]*?)\$\$;/g)].map((m) => ({
      name: m[1]!,
      file: r.file,
      body: m[2]!,
    })),
  );
}

describe('each rule is written once', () => {
  const fns = routineFunctions();

  test('only send_blocked decides from suppressions (the list management functions aside)', () => {
    const list = ['list_suppressions', 'add_suppression', 'delete_suppression', 'suppress_erased'];
    const readers = fns.filter((f) => /\b(from|join)\s+suppressions\b/i.test(f.body)).map((f) => f.name);
    expect(readers.filter((n) => !list.includes(n))).toEqual(['send_blocked']);
  });

  test('sender_days is written only by the ledger functions', () => {
    const writers = fns.filter((f) => /\b(update|insert\s+into|delete\s+from)\s+sender_days\b/i.test(f.body));
    expect(writers.filter((f) => f.file !== 'quota_ledger.sql').map((f) => f.name)).toEqual([]);
    expect(writers.every((f) => f.name.startsWith('ledger_'))).toBe(true);
  });

  test('one stopped-status test, one sender lookup, the step a parameter', () => {
    const stoppedList = fns.filter((f) => /'replied',\s*'bounced'/.test(f.body)).map((f) => f.name);
    expect(stoppedList).toEqual(['lead_status_stopped']);
    const raisesSender = fns.filter((f) => f.body.includes("'sender_not_found'")).map((f) => f.name);
    expect(raisesSender).toEqual(['sender_or_raise']);
    const fixedStep = fns.filter((f) => /\bstep\s*=\s*1\b|values\s*\(\s*\w+\.id,\s*1,/i.test(f.body)).map((f) => f.name);
    expect(fixedStep).toEqual([]);
  });

  test('SQL raises domain codes, never names an HTTP route, and every code has a problem', () => {
    const all = readRoutines().map((r) => r.sql).join('\n');
    // what the SQL says to callers (comments may well name the route a function serves)
    expect(all.replace(/--.*$/gm, '')).not.toMatch(/\/v1\//);
    expect([...all.matchAll(/errcode = '(\w+)'/g)].map((m) => m[1]).filter((c) => c !== 'CR000')).toEqual([]);
    const codes = new Set([...all.matchAll(/errcode = 'CR000', message = '(\w+)'/g)].map((m) => m[1]!));
    // 'lead_' || status: the stopped statuses a retry refuses
    const named = [...codes].flatMap((c) => (c === 'lead_' ? ['lead_replied', 'lead_unsubscribed', 'lead_complained', 'lead_stopped'] : [c]));
    expect(named.filter((c) => !(c in DOMAIN_PROBLEMS))).toEqual([]);
  });
});

test('a wrong configuration value stops the start and names the variable', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'service/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(/PORT: must be a whole number/);
  expect(run.stderr).toMatch(/DATABASE_URL: must be a postgres/);
});
