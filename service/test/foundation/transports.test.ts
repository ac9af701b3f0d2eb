// The same contract over the three transports: PGlite, node-postgres and supabase-js.
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PostgresDatabase } from '../../src/db/postgres-database';
import { PgliteDatabase } from '../../src/db/pglite-database';
import { applyMigrations } from '../../src/db/migrations';
import { startPostgrestShim, type PostgrestShim, type ShimQuery } from '../support/postgrest-shim';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestService, type TestService } from '../support/test-service';

const SERVICE_ROLE_KEY = 'service-role-key-for-tests';

describe('supabase-js transport (through a PostgREST-compatible shim)', () => {
  let database: TestDatabase;
  let shim: PostgrestShim;
  let svc: TestService;
  let closeBackend: () => Promise<void>;

  beforeAll(async () => {
    database = await createTestDatabase();
    let query: ShimQuery;
    if (database.kind === 'postgres') {
      const migrator = await PostgresDatabase.open({ url: database.url!, poolSize: 2, queryTimeoutMs: 30_000 });
      await applyMigrations(migrator);
      await migrator.close();
      const pool = new pg.Pool({ connectionString: database.url, max: 4 });
      query = (text, values) => pool.query(text, values);
      closeBackend = () => pool.end();
    } else {
      // Without TEST_DATABASE_URL the shim forwards to PGlite (same SQL, same functions).
      const dir = database.env.COROFY_DATA_DIR!;
      const migrator = await PgliteDatabase.open(dir);
      await applyMigrations(migrator);
      await migrator.close();
      const lite = await PGlite.create(`${dir}/pglite`);
      query = (text, values) => lite.query(text, values) as never;
      closeBackend = () => lite.close();
    }
    shim = await startPostgrestShim(query, SERVICE_ROLE_KEY);
    svc = await startTestService({ SUPABASE_URL: shim.url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY, COROFY_DATA_DIR: '' }, {
      ...database,
      env: {},
    });
  });
  afterAll(async () => {
    await svc?.close();
    await shim?.close();
    await closeBackend?.();
    await database?.drop();
  });

  test('readyz reports supabase and the schema version', async () => {
    const res = await svc.api('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ready', database: 'supabase', schemaVersion: expect.stringMatching(/^\d{14}$/) });
  });

  test('import, read, senders and stats go through rpc with the service role key', async () => {
    const imp = await svc.api('POST', '/v1/leads/import', {
      leads: [{ email: 'one@example.com', country: 'DE' }, { email: 'ONE@example.com' }, { email: 'two@example.com' }],
    });
    expect(imp.body).toMatchObject({ imported: 2, duplicates: 1 });
    const lead = await svc.api('GET', `/v1/leads/${imp.body.leadIds[1]}`);
    expect(lead.body).toMatchObject({ email: 'two@example.com', status: 'new' });
    const missing = await svc.api('GET', '/v1/leads/424242');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('lead_not_found');
    const put = await svc.api('PUT', '/v1/senders/eu', { dailyQuota: 50, timezone: 'Europe/Berlin' });
    expect(put.body).toMatchObject({ id: 'eu', dailyQuota: 50, timezone: 'Europe/Berlin' });
    const stats = await svc.api('GET', '/v1/stats?sender=eu');
    expect(stats.body).toMatchObject({ sender: 'eu', quota: 50 });
    expect(shim.calls.map((c) => c.fn)).toEqual(expect.arrayContaining(['import_leads', 'get_lead', 'put_sender', 'get_stats']));
    expect(shim.calls.every((c) => c.apikey === SERVICE_ROLE_KEY)).toBe(true);
  });
});

describe('node-postgres and PGlite transports', () => {
  test('the migration lock lets concurrent starts on one database take turns', async () => {
    const database = await createTestDatabase();
    try {
      if (database.kind === 'postgres') {
        const a = await PostgresDatabase.open({ url: database.url!, poolSize: 2, queryTimeoutMs: 30_000 });
        const b = await PostgresDatabase.open({ url: database.url!, poolSize: 2, queryTimeoutMs: 30_000 });
        const [ra, rb] = await Promise.all([applyMigrations(a), applyMigrations(b)]);
        // every migration applied exactly once, by one of the two
        expect([...ra, ...rb].sort()).toEqual([...new Set([...ra, ...rb])].sort());
        expect(ra.length + rb.length).toBeGreaterThanOrEqual(2);
        expect(Math.min(ra.length, rb.length)).toBe(0);
        await a.close();
        await b.close();
      } else {
        const a = await PgliteDatabase.open(database.env.COROFY_DATA_DIR!);
        expect((await applyMigrations(a)).length).toBeGreaterThanOrEqual(2);
        expect(await applyMigrations(a)).toEqual([]);
        await a.close();
      }
    } finally {
      await database.drop();
    }
  });
});
