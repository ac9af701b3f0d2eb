// On Supabase, the anon key must not reach Corofy's data through the REST API.
// Checked on a real Postgres with Supabase's roles (anon, authenticated, service_role).
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestService, type TestService } from '../support/test-service';
import { postgresOnly } from '../support/database';

const admin = process.env.TEST_DATABASE_URL;
const { test: testPg } = postgresOnly('Supabase roles (anon, authenticated, service_role) exist only on a Postgres server');

let database: TestDatabase | undefined;
let svc: TestService | undefined;

beforeAll(async () => {
  if (!admin) return;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  for (const role of ['anon', 'authenticated', 'service_role']) {
    // roles are cluster-wide; several test files may race to create them
    await c.query(`do $$ begin create role ${role} nologin; exception when duplicate_object then null; end $$`);
  }
  // as on Supabase: the service role bypasses row level security
  await c.query('alter role service_role bypassrls');
  await c.end();
  database = await createTestDatabase();
  svc = await startTestService({}, database);
});
afterAll(async () => {
  await svc?.close();
  await database?.drop();
});

testPg('anon and authenticated can neither read tables nor call functions; service_role can', async () => {
  await svc!.api('POST', '/v1/leads/import', { leads: [{ email: 'secret@example.com' }] });
  const c = new pg.Client({ connectionString: database!.url });
  await c.connect();
  try {
    for (const role of ['anon', 'authenticated']) {
      await c.query(`set role ${role}`);
      await expect(c.query('select * from leads')).rejects.toThrow(/permission denied/);
      await expect(c.query('select * from suppressions')).rejects.toThrow(/permission denied/);
      await expect(c.query(`select public.get_lead(p_id => 1)`)).rejects.toThrow(/permission denied/);
      await expect(c.query(`select public.import_leads(p_leads => '[{"email":"x@y.com"}]'::jsonb)`)).rejects.toThrow(
        /permission denied/,
      );
      await c.query('reset role');
    }
    await c.query('set role service_role');
    const lead = await c.query(`select public.get_lead(p_id => 1) as result`);
    expect(lead.rows[0].result.email).toBe('secret@example.com');
    await c.query('reset role');
    const rls = await c.query(`select count(*)::int as n from pg_tables where schemaname = 'public' and not rowsecurity`);
    expect(rls.rows[0].n).toBe(0);
  } finally {
    await c.end();
  }
});

test('on the embedded database and plain Postgres the service still works with RLS on', async () => {
  const local = svc ?? (await startTestService());
  try {
    const imp = await local.api('POST', '/v1/leads/import', { leads: [{ email: 'rls-check@example.com' }] });
    expect(imp.body.imported).toBe(1);
    expect((await local.api('GET', `/v1/leads/${imp.body.leadIds[0]}`)).body.email).toBe('rls-check@example.com');
  } finally {
    if (!svc) await local.stop();
  }
});
