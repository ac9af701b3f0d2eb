import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { listMigrations, applyMigrations, SchemaBehindError } from '../../src/db/migrations';
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
