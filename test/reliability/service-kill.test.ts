// The service killed (kill -9) twice during a claim storm of 32 callers over
// two senders, on two service processes sharing a Postgres of the test's own.
// A caller whose request died with the process sends it again with the same
// idempotency key to the other process (as n8n's retry does). Afterwards: no
// lead in two batches, each ledger equals its rows and never exceeds the
// quota, no lead passed over, every key replays its batch identically.
import { exited, killAll, startProcess, type ServiceProcess } from '../../service/test/batches/service-processes';
import { recordFigures } from './figures';
import { call, sleep, startOwnDatabase, type OwnDatabase } from './support';

const CALLERS = 32;
const QUOTA = 600;

let db: OwnDatabase;
beforeAll(async () => {
  db = await startOwnDatabase({ settings: { max_connections: '100' } });
}, 120_000);
afterAll(async () => {
  killAll();
  await db?.close();
});

test('kill -9 twice during a 32-caller claim storm over two senders', async () => {
  const procs: ServiceProcess[] = [await startProcess(db.url), await startProcess(db.url)];
  for (const sender of ['north', 'south']) {
    const r = await call(procs[0]!.url, 'PUT', `/v1/senders/${sender}`, { dailyQuota: QUOTA, timezone: 'UTC' });
    expect(r.status).toBe(200);
  }
  const leads = Array.from({ length: 2000 }, (_, i) => ({ email: `kill${i}@kill.example` }));
  const imported = await call(procs[0]!.url, 'POST', '/v1/leads/import', { leads });
  expect(imported.status).toBe(200);
  const allIds: string[] = imported.body.leadIds;

  const answered = new Map<string, { sender: string; batchId: string; ids: string[] }>();
  const connectionErrors: string[] = [];
  const otherFailures: string[] = [];
  let stop = false;
  let n = 0;
  const caller = async (w: number) => {
    const sender = w % 2 === 0 ? 'north' : 'south';
    while (!stop) {
      const key = `kill-${w}-${n++}`;
      // sent again, to either process, until answered (a killed process answers nothing)
      for (let attempt = 0; !stop; attempt++) {
        const p = procs[(w + attempt) % 2]!;
        const a = await call(p.url, 'POST', '/v1/batches/claim', { sender, size: 3, idempotencyKey: key });
        if (a.status === 200) {
          answered.set(key, { sender, batchId: a.body.batchId, ids: a.body.leads.map((l: { id: string }) => l.id) });
          break;
        }
        if (a.status === 0 && !a.hung) connectionErrors.push(a.error!);
        else otherFailures.push(`${a.status} ${a.body?.code ?? a.error}`);
        await sleep(100);
      }
    }
  };
  const storm = Promise.all(Array.from({ length: CALLERS }, (_, w) => caller(w)));
  const kills: { at: number; answeredBefore: number }[] = [];
  const started = performance.now();
  const restarts: Promise<void>[] = [];
  for (const victim of [0, 1]) {
    await sleep(1_000);
    kills.push({ at: Math.round(performance.now() - started), answeredBefore: answered.size });
    procs[victim]!.child.kill('SIGKILL');
    await exited(procs[victim]!.child);
    restarts.push(startProcess(db.url).then((p) => void (procs[victim] = p)));
  }
  await Promise.all(restarts);
  // the storm goes on until both senders' quotas are used up (or a minute)
  const deadline = performance.now() + 60_000;
  for (;;) {
    const [row] = await db.sql(`select coalesce(sum(claimed + scheduled + sent), 0)::int as used from sender_days where sender_id in ('north', 'south')`);
    if (row.used >= 2 * QUOTA || performance.now() > deadline) break;
    await sleep(200);
  }
  await sleep(1_000);
  stop = true;
  await storm;
  const stormMs = Math.round(performance.now() - started);

  // replays: every key answered returns its batch, identically, from either process
  const changed: string[] = [];
  let i = 0;
  for (const [key, a] of answered) {
    const again = await call(procs[i++ % 2]!.url, 'POST', '/v1/batches/claim', { sender: a.sender, size: 3, idempotencyKey: key });
    const ids = again.body?.leads?.map((l: { id: string }) => l.id) ?? [];
    if (again.status !== 200 || again.body.batchId !== a.batchId || ids.join() !== a.ids.join()) changed.push(key);
  }
  const batches = [...answered.values()];
  const claimed = batches.flatMap((b) => b.ids);
  const ledgers = await db.sql(`
    select d.sender_id, d.quota, d.claimed + d.scheduled + d.sent as used,
           (select count(*)::int from batches b, unnest(b.lead_ids) l where b.sender_id = d.sender_id and b.day = d.day) as in_batches
      from sender_days d where d.sender_id in ('north', 'south') order by 1`);
  const dbClaimed = await db.sql(`select id::text as id from leads where status = 'claimed' order by leads.id`);

  recordFigures('service-kill', {
    callers: CALLERS,
    kills,
    stormMs,
    claimsAnswered: answered.size,
    leadsClaimed: claimed.length,
    connectionErrorsRetried: connectionErrors.length,
    otherFailures: otherFailures.length,
    claimsChangedOnReplay: changed.length,
    ledgers,
  });

  expect(changed).toEqual([]);
  expect(otherFailures.filter((f) => !/^503 database_/.test(f))).toEqual([]);
  // no lead in two batches
  expect(new Set(claimed).size).toBe(claimed.length);
  // the ledger equals the rows and never exceeds the quota; the quota was reached
  for (const l of ledgers) {
    expect(l.used).toBe(l.in_batches);
    expect(l.used).toBeLessThanOrEqual(QUOTA);
  }
  expect(ledgers.map((l) => l.used)).toEqual([QUOTA, QUOTA]);
  // no lead passed over: the claimed leads are exactly the first ones, in order
  expect(dbClaimed.map((r) => r.id)).toEqual(allIds.slice(0, 2 * QUOTA));
  expect([...claimed].sort((a, b) => Number(a) - Number(b))).toEqual(allIds.slice(0, 2 * QUOTA));
});
