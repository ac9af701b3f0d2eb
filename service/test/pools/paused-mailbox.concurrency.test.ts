// A paused mailbox sends nothing from the moment it is paused: 16 workers
// drain its due sends (and gate and claim) while a burst of hard bounces
// pauses it (the seven recorded at once: none may slip under the line); every
// call sent after the pause was answered hands out nothing of it.
import { rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { postgresOnly } from '../support/database';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

const everyDay = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' };

test('16 workers draining, gating and claiming while a burst of hard bounces pauses the mailbox', async () => {
  for (const id of ['pz', 'qz']) {
    await svc.api('PUT', `/v1/senders/${id}`, { dailyQuota: 200, timezone: 'UTC', window: everyDay });
  }
  await svc.api('PUT', '/v1/pools/zz', { dailyTarget: 400, members: ['pz', 'qz'] });
  await svc.api('POST', '/v1/leads/import', { leads: Array.from({ length: 400 }, (_, i) => ({ email: `z${i}@z${i}.test` })) });
  const claim = await svc.api('POST', '/v1/pools/zz/claim', { size: 240 });
  const pzLeads = (claim.body.leads as { id: string; sender: string; email: string }[]).filter((l) => l.sender === 'pz');
  expect(pzLeads).toHaveLength(120);
  // 20 already sent (to bounce), 100 due now
  await scheduleSends(svc, pzLeads.map((l) => l.id), new Date(Date.now() - 60_000), new Date(Date.now() + 3_600_000));
  const first = await svc.api('POST', '/v1/sends/claim-due', { sender: 'pz', limit: 20 });
  await svc.api('POST', '/v1/sends/report', {
    results: first.body.sends.map((s: { sendId: string }) => ({ sendId: s.sendId, status: 'sent', messageId: `<${s.sendId}@z.test>` })),
  });
  const bounced = first.body.sends.map((s: { to: string }) => s.to) as string[];

  let pausedAnsweredAt = Infinity;
  const violations: unknown[] = [];
  let stop = false;
  const worker = async (n: number) => {
    while (!stop) {
      const sentAt = performance.now();
      if (n % 4 === 0) {
        const r = await svc.api('POST', '/v1/pools/zz/claim', { size: 2 });
        const mine = (r.body.leads ?? []).filter((l: { sender: string }) => l.sender === 'pz');
        if (sentAt > pausedAnsweredAt && mine.length > 0) violations.push({ claim: mine });
      } else {
        const r = await svc.api('POST', '/v1/sends/claim-due', { sender: 'pz', limit: 2 });
        const sends = r.body.sends ?? [];
        if (sentAt > pausedAnsweredAt && sends.length > 0) violations.push({ drain: sends });
        if (sends.length > 0) {
          await svc.api('POST', '/v1/sends/report', {
            results: sends.map((s: { sendId: string }) => ({ sendId: s.sendId, status: 'sent', messageId: `<${s.sendId}@z.test>` })),
          });
        }
      }
    }
  };
  const workers = Array.from({ length: 16 }, (_, n) => worker(n));
  // the burst: seven hard bounces at once
  await new Promise((r) => setTimeout(r, 150));
  const bounces = await Promise.all(bounced.slice(0, 7).map((email) => svc.api('POST', '/v1/events', { kind: 'bounce', email })));
  expect(bounces.every((b) => b.status === 200)).toBe(true);
  pausedAnsweredAt = performance.now();
  await new Promise((r) => setTimeout(r, 1500));
  stop = true;
  await Promise.all(workers);

  expect(violations).toEqual([]);
  const [m] = await rawSql(svc)(`select paused_code from mailboxes where sender_id = 'pz'`);
  expect(m.paused_code).toBe('hard_bounces');
  // some of pz's sends were still due when it paused, and are still waiting (or moved to qz)
  const left = await rawSql(svc)(`select count(*)::int as n from sends s join leads l on l.id = s.lead_id
                                   where l.email like 'z%' and s.status = 'scheduled'`);
  expect(left[0].n).toBeGreaterThan(0);
  // the gate gives nothing for pz either
  const gate = await svc.api('POST', '/v1/gate', { sender: 'pz', leadIds: [pzLeads[0]!.id] });
  expect(gate.body.sendNow).toEqual([]);
});

const { test: testPg } = postgresOnly('seven transactions open at once need seven connections; PGlite is one connection');
testPg('seven hard bounces recorded in seven transactions open at once still pause the mailbox', async () => {
  await svc.api('PUT', '/v1/senders/burst', { dailyQuota: 50, timezone: 'UTC', window: everyDay });
  await svc.api('POST', '/v1/leads/import', { leads: Array.from({ length: 7 }, (_, i) => ({ email: `burst${i}@b${i}.test` })) });
  const claim = await svc.api('POST', '/v1/batches/claim', { sender: 'burst', size: 7 });
  const ids = (claim.body.leads as { id: string }[]).map((l) => l.id);
  await scheduleSends(svc, ids, new Date(Date.now() - 60_000), new Date(Date.now() + 3_600_000));
  const due = await svc.api('POST', '/v1/sends/claim-due', { sender: 'burst' });
  await svc.api('POST', '/v1/sends/report', {
    results: due.body.sends.map((s: { sendId: string }) => ({ sendId: s.sendId, status: 'sent', messageId: `<${s.sendId}@b.test>` })),
  });
  // each transaction stays open a moment after its bounce: without taking turns none would see the others
  const { Client } = await import('pg');
  const clients = await Promise.all(
    due.body.sends.map(async () => {
      const c = new Client({ connectionString: svc.database.url });
      await c.connect();
      return c;
    }),
  );
  try {
    await Promise.all(
      due.body.sends.map((s: { to: string }, i: number) =>
        clients[i]!.query(
          `begin; select record_event(jsonb_build_object('kind', 'bounce', 'email', '${s.to}')); select pg_sleep(0.3); commit;`,
        ),
      ),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  const health = (await svc.api('GET', '/v1/senders/burst')).body.health;
  expect(health).toMatchObject({ status: 'paused', paused: { code: 'hard_bounces' }, hardBounces: { count: 7 } });
});
