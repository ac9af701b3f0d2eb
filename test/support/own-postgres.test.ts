// The own-Postgres harness does what the reliability tests rely on: a server of
// its own on a free port, committed rows surviving a crash (`-m immediate`) and
// a fast restart, and nothing left behind.
import fs from 'node:fs';
import pg from 'pg';
import { startOwnPostgres, type OwnPostgres } from './own-postgres';

async function query(url: string, text: string): Promise<any[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('own Postgres', () => {
  let server: OwnPostgres;
  beforeAll(async () => {
    server = await startOwnPostgres({ settings: { max_connections: '40' } });
  }, 120_000);
  afterAll(() => server?.cleanup());

  it('is a server of its own, not the shared one on 5432, with the settings asked for', async () => {
    expect(server.port).not.toBe(5432);
    const [row] = await query(server.url, `select current_setting('port') as port, current_setting('max_connections') as max`);
    expect(row).toEqual({ port: String(server.port), max: '40' });
  });

  it('keeps committed rows through a crash (-m immediate) and a fast restart', async () => {
    await query(server.url, 'create table kept (n int)');
    await query(server.url, 'insert into kept select generate_series(1, 100)');
    const downMs = await server.restart('immediate');
    expect(downMs).toBeGreaterThan(0);
    expect(server.running()).toBe(true);
    expect(await query(server.url, 'select count(*)::int as n from kept')).toEqual([{ n: 100 }]);
    await server.restart('fast');
    expect(await query(server.url, 'select count(*)::int as n from kept')).toEqual([{ n: 100 }]);
  }, 120_000);

  it('refuses connections while stopped and is reachable again after start', async () => {
    await server.stop('fast');
    await expect(query(server.url, 'select 1')).rejects.toThrow(/ECONNREFUSED/);
    await server.start();
    expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
  }, 120_000);

  it('leaves nothing behind after cleanup', async () => {
    const extra = await startOwnPostgres();
    const dir = extra.dataDir;
    expect(fs.existsSync(dir)).toBe(true);
    await extra.cleanup();
    expect(fs.existsSync(dir)).toBe(false);
    await expect(query(extra.url, 'select 1')).rejects.toThrow(/ECONNREFUSED/);
  }, 120_000);
});
