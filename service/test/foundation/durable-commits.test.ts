// Every answer the service gives is durably committed (DESIGN: "Durable
// answers"): no function, session or connection of ours trades durability for
// speed. An asynchronous commit let a claim answered 200 vanish in a database
// crash and its idempotency key then replay a different batch (the crash itself
// is exercised by `npm run test:reliability`, on a Postgres of its own).
import fs from 'node:fs';
import path from 'node:path';
import { rawSql } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

const SETTINGS = ['synchronous_commit', 'commit_delay', 'commit_siblings', 'fsync', 'full_page_writes', 'wal_level'];
/** A setting's name as a word (Postgres regular expressions spell word boundaries \y). */
const IN_SQL = `\\y(${SETTINGS.join('|')})\\y`;
const IN_SOURCE = new RegExp(`\\b(${SETTINGS.join('|')})\\b`, 'i');

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => {
  await svc?.stop();
});

test('no SQL function of ours changes a durability setting, in its body or its SET clauses', async () => {
  const rows = await rawSql(svc)(`
    select p.proname as name
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'public'
       and (p.prosrc ~* $1 or array_to_string(p.proconfig, ',') ~* $1)
     order by 1`, [IN_SQL]);
  expect(rows).toEqual([]);
});

test('no service source or migration sets a durability setting', () => {
  const root = path.resolve(__dirname, '../..');
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.(ts|sql)$/.test(entry.name) && IN_SOURCE.test(fs.readFileSync(file, 'utf8'))) {
        offenders.push(path.relative(root, file));
      }
    }
  };
  walk(path.join(root, 'src'));
  walk(path.join(root, 'supabase/migrations'));
  expect(offenders).toEqual([]);
});
