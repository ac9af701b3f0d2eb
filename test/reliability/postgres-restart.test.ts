// Postgres restarted under load (`pg_ctl restart -m fast`, then `-m immediate`,
// a crash) on a Postgres of the test's own, while claims, compose, gate, send
// reports and events run through a service process. Afterwards every answer
// that was 2xx is in the database and a claim's idempotency key replays the same
// batch; during the outage the only errors are 503 problems (no other 5xx, no
// hang); the service is ready again by itself.
import { exited, killAll, startProcess, type ServiceProcess } from '../../service/test/batches/service-processes';
import { recordFigures } from './figures';
import { call, percentile, sleep, startOwnDatabase, type Answer, type OwnDatabase } from './support';

const CLAIMERS = 12;
const PIPELINES = 4;
const EVENTERS = 2;
const LOAD_MS = 2_500;

let db: OwnDatabase;
let svc: ServiceProcess;
beforeAll(async () => {
  // A long WAL writer delay keeps an asynchronously committed transaction in
  // memory for up to 10 s: a crash then loses it for sure (with the default
  // 200 ms only sometimes). Synchronous commits, which every answer must use,
  // are flushed before they return whatever this says.
  db = await startOwnDatabase({ settings: { max_connections: '100', wal_writer_delay: "'10s'" } });
  svc = await startProcess(db.url, { COROFY_SANDBOX: 'true', DATABASE_QUERY_TIMEOUT_MS: '20000' });
}, 180_000);
afterAll(async () => {
  killAll();
  if (svc) await exited(svc.child);
  await db?.close();
});

interface Logged extends Answer {
  op: string;
  /** The claim's idempotency key, or the send ids a report carried. */
  key?: string;
  at: number;
}

test('restart -m fast and -m immediate under load: every 2xx answer is kept, only 503s meanwhile, ready again by itself', async () => {
  const put = await call(svc.url, 'PUT', '/v1/senders/default', {
    dailyQuota: 100_000,
    timezone: 'UTC',
    fromName: 'Jane Seller',
    postalAddress: '1 Harbour Road, Rotterdam, NL',
    // always open, every day: the gate hands out sends now whatever day CI runs
    window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' },
    skipHolidays: false,
  });
  expect(put.status).toBe(200);
  const leads = Array.from({ length: 4000 }, (_, i) => ({
    email: `person${i}@restart.example`,
    firstName: `P${i}`,
    companyName: `Company ${i % 50}`,
    industry: 'Industrial Machinery',
    timezone: 'UTC',
  }));
  const imported = await call(svc.url, 'POST', '/v1/leads/import', { leads });
  expect(imported.status).toBe(200);
  // events go to leads far beyond what the claims reach
  const eventEmails = leads.slice(3000).map((l) => l.email);

  const log: Logged[] = [];
  const t0 = performance.now();
  const logged = async (op: string, p: Promise<Answer>, key?: string) => {
    const a = await p;
    log.push({ ...a, op, key, at: performance.now() - t0 });
    return a;
  };
  let stop = false;
  let n = 0;
  const claimer = async (w: number) => {
    while (!stop) {
      const key = `claim-${w}-${n++}`;
      const a = await logged('claim', call(svc.url, 'POST', '/v1/batches/claim', { size: 2, idempotencyKey: key }), key);
      if (a.status !== 200) await sleep(50);
    }
  };
  const pipeline = async (w: number) => {
    while (!stop) {
      const key = `pipe-${w}-${n++}`;
      const claim = await logged('claim', call(svc.url, 'POST', '/v1/batches/claim', { size: 2, idempotencyKey: key }), key);
      if (claim.status !== 200 || claim.body.leads.length === 0) {
        await sleep(50);
        continue;
      }
      const leadIds = claim.body.leads.map((l: { id: string }) => l.id);
      const composed = await logged('compose', call(svc.url, 'POST', '/v1/compose', { leadIds }));
      if (composed.status !== 200) continue;
      const ok = composed.body.emails.map((e: { leadId: string }) => e.leadId);
      if (ok.length === 0) continue;
      const gated = await logged('gate', call(svc.url, 'POST', '/v1/gate', { leadIds: ok }));
      if (gated.status !== 200 || gated.body.sendNow.length === 0) continue;
      const results = gated.body.sendNow.map((s: { sendId: string }) => ({
        sendId: s.sendId,
        status: 'sent',
        messageId: `<send-${s.sendId}@restart.example>`,
      }));
      await logged('report', call(svc.url, 'POST', '/v1/sends/report', { results }), results.map((r: { sendId: string }) => r.sendId).join(','));
    }
  };
  const eventer = async (w: number) => {
    for (let i = w; !stop; i += EVENTERS) {
      const email = eventEmails[i % eventEmails.length]!;
      await logged('event', call(svc.url, 'POST', '/v1/events', { kind: 'bounce', email, messageId: `<ev-${w}-${i}@restart.example>` }));
      await sleep(20);
    }
  };
  const load = Promise.all([
    ...Array.from({ length: CLAIMERS }, (_, w) => claimer(w)),
    ...Array.from({ length: PIPELINES }, (_, w) => pipeline(w)),
    ...Array.from({ length: EVENTERS }, (_, w) => eventer(w)),
  ]);

  const restarts: Record<string, unknown>[] = [];
  for (const mode of ['fast', 'immediate'] as const) {
    await sleep(LOAD_MS);
    const began = performance.now() - t0;
    const downMs = await db.server.restart(mode);
    const restarted = performance.now() - t0;
    let readyMs: number | undefined;
    while (readyMs === undefined && performance.now() - t0 - restarted < 60_000) {
      const r = await call(svc.url, 'GET', '/readyz', undefined, { timeoutMs: 10_000 });
      if (r.status === 200) readyMs = Math.round(performance.now() - t0 - restarted);
      else await sleep(50);
    }
    // load keeps running: the first claim answered 200 after the server is back
    await sleep(LOAD_MS);
    const firstOk = log.find((a) => a.op === 'claim' && a.status === 200 && a.at - a.ms > began);
    restarts.push({
      mode,
      postgresDownMs: downMs,
      serviceReadyAfterPostgresMs: readyMs,
      firstClaimOkAfterRestartBeganMs: firstOk ? Math.round(firstOk.at - began) : undefined,
      answers503: log.filter((a) => a.status === 503 && a.at > began && a.at - a.ms < restarted + (readyMs ?? 0)).length,
    });
    expect(readyMs).toBeDefined();
    expect(firstOk).toBeDefined();
  }
  await sleep(LOAD_MS);
  stop = true;
  await load;

  // 1. only 2xx or 503 problems; no hang, no other 5xx, nothing but problem codes of an outage
  const unexpected = log.filter(
    (a) => !(a.status >= 200 && a.status < 300) && !(a.status === 503 && /^database_(unavailable|timeout)$/.test(a.body?.code)),
  );

  // 2. every claim answered 200 replays the same batch, and its batch is in the database
  const claims = log.filter((a) => a.op === 'claim' && a.status === 200);
  const replayed: string[] = [];
  const changed: unknown[] = [];
  for (const a of claims) {
    const again = await call(svc.url, 'POST', '/v1/batches/claim', { size: 2, idempotencyKey: a.key });
    const ids = (b: any) => b.leads.map((l: { id: string }) => l.id).join(',');
    if (again.status !== 200 || again.body.batchId !== a.body.batchId || ids(again.body) !== ids(a.body)) {
      changed.push({ key: a.key, before: [a.body.batchId, ids(a.body)], after: [again.body?.batchId, again.body && ids(again.body)] });
    } else replayed.push(a.key!);
  }
  const batchIds = claims.map((a) => a.body.batchId as string);
  const kept = await db.sql('select count(*)::int as n from batches where id = any($1::uuid[])', [batchIds]);
  // no lead is in two answered batches
  const claimedLeads = claims.flatMap((a) => a.body.leads.map((l: { id: string }) => l.id));

  // 3. sends the gate handed out, reports, events: all there
  const gated = log.filter((a) => a.op === 'gate' && a.status === 200);
  const sendIds = gated.flatMap((a) => [...a.body.sendNow, ...a.body.scheduled].map((s: { sendId: string }) => s.sendId));
  const sendsKept = await db.sql('select count(*)::int as n from sends where id = any($1::bigint[])', [sendIds]);
  const reports = log.filter((a) => a.op === 'report' && a.status === 200);
  const reportedIds = reports.flatMap((a) => a.key!.split(','));
  const sentKept = await db.sql(`select count(*)::int as n from sends where id = any($1::bigint[]) and status = 'sent'`, [
    reportedIds,
  ]);
  const events = log.filter((a) => a.op === 'event' && a.status === 200);
  const eventsKept = await db.sql('select count(*)::int as n from events where id = any($1::bigint[])', [
    events.map((a) => a.body.eventId),
  ]);

  const byStatus: Record<string, number> = {};
  for (const a of log) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
  recordFigures('postgres-restart', {
    callers: CLAIMERS + PIPELINES + EVENTERS,
    requests: log.length,
    byStatus,
    hung: log.filter((a) => a.hung).length,
    unexpectedAnswers: unexpected.length,
    latencyMs: { p50: percentile(log.map((a) => a.ms), 50), p99: percentile(log.map((a) => a.ms), 99) },
    restarts,
    claimsAnswered: claims.length,
    claimsReplayedIdentically: replayed.length,
    claimsChangedOnReplay: changed.length,
    sendsHandedOut: sendIds.length,
    reportsAnswered: reports.length,
    eventsAnswered: events.length,
  });

  expect(changed).toEqual([]);
  expect(unexpected.map((a) => ({ op: a.op, status: a.status, code: a.body?.code, error: a.error, hung: a.hung }))).toEqual([]);
  expect(kept[0].n).toBe(new Set(batchIds).size);
  expect(new Set(claimedLeads).size).toBe(claimedLeads.length);
  expect(sendsKept[0].n).toBe(new Set(sendIds).size);
  expect(sentKept[0].n).toBe(new Set(reportedIds).size);
  expect(eventsKept[0].n).toBe(new Set(events.map((a) => a.body.eventId)).size);
  expect(claims.length).toBeGreaterThan(100);
  expect(reports.length).toBeGreaterThan(0);
});

test('a crash (-m immediate) in the middle of a storm of 32 claimers loses no batch that was answered', async () => {
  const put = await call(svc.url, 'PUT', '/v1/senders/storm', { dailyQuota: 100_000, timezone: 'UTC' });
  expect([put.status, put.body.detail]).toEqual([200, undefined]);
  const leads = Array.from({ length: 5000 }, (_, i) => ({ email: `storm${i}@restart.example` }));
  expect((await call(svc.url, 'POST', '/v1/leads/import', { leads })).status).toBe(200);

  const answered: { key: string; batchId: string; ids: string }[] = [];
  const failures: Answer[] = [];
  let stop = false;
  let n = 0;
  const claimer = async (w: number) => {
    while (!stop) {
      const key = `storm-${w}-${n++}`;
      const a = await call(svc.url, 'POST', '/v1/batches/claim', { sender: 'storm', size: 2, idempotencyKey: key });
      if (a.status === 200) answered.push({ key, batchId: a.body.batchId, ids: a.body.leads.map((l: { id: string }) => l.id).join(',') });
      else {
        failures.push(a);
        await sleep(50);
      }
    }
  };
  const storm = Promise.all(Array.from({ length: 32 }, (_, w) => claimer(w)));
  await sleep(3_000);
  const answeredBeforeCrash = answered.length;
  const downMs = await db.server.restart('immediate');
  await sleep(1_500);
  stop = true;
  await storm;

  const changed: unknown[] = [];
  for (const a of answered) {
    const again = await call(svc.url, 'POST', '/v1/batches/claim', { sender: 'storm', size: 2, idempotencyKey: a.key });
    const ids = again.body?.leads?.map((l: { id: string }) => l.id).join(',');
    if (again.status !== 200 || again.body.batchId !== a.batchId || ids !== a.ids) changed.push({ ...a, replay: [again.status, again.body?.batchId, ids] });
  }
  const kept = await db.sql('select count(*)::int as n from batches where id = any($1::uuid[])', [answered.map((a) => a.batchId)]);
  const claimedLeads = answered.flatMap((a) => (a.ids ? a.ids.split(',') : []));
  recordFigures('postgres-crash-claim-storm', {
    callers: 32,
    claimsAnswered: answered.length,
    claimsAnsweredBeforeCrash: answeredBeforeCrash,
    postgresDownMs: downMs,
    batchesLost: answered.length - kept[0].n,
    claimsChangedOnReplay: changed.length,
    failuresByStatus: failures.reduce<Record<string, number>>((m, a) => ({ ...m, [a.status || a.error!]: (m[a.status || a.error!] ?? 0) + 1 }), {}),
  });
  expect(changed).toEqual([]);
  expect(kept[0].n).toBe(answered.length);
  expect(new Set(claimedLeads).size).toBe(claimedLeads.length);
  expect(failures.filter((a) => !(a.status === 503 && /^database_/.test(a.body?.code)))).toEqual([]);
});
