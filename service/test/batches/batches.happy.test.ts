import pg from 'pg';
import { claimBookkeepingGaps, importLeads, ledgerCounts, ledgerFromRows, rawSql, stopService } from '../support/sends-fixture';
import { composeLeads } from '../support/leads';
import { BatchSchema } from '../../src/batches/batches.routes';
import { LeadSchema } from '../../src/leads/lead-input';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ COROFY_CLAIM_LEASE_SECONDS: '600' });
});
afterAll(() => stopService(svc));

test('leads without email and suppressed leads are skipped with a reason; the batch still fills up', async () => {
  const ids = await importLeads(svc, 6, 'fill');
  await rawSql(svc)('update leads set email = null where id = $1', [ids[1]]);
  await svc.api('POST', '/v1/suppressions', { email: 'fill3@example.com', reason: 'asked' });
  const r = await svc.api('POST', '/v1/batches/claim', { size: 4, idempotencyKey: 'monday' });
  expect(r.status).toBe(200);
  expect(r.body.leads.map((l: { id: string }) => l.id)).toEqual([ids[0], ids[2], ids[4], ids[5]]);
  expect(r.body.skipped).toEqual([
    { leadId: ids[1], reason: 'no_email' },
    { leadId: ids[3], reason: 'suppressed' },
  ]);
  expect((await svc.api('GET', `/v1/leads/${ids[3]}`)).body).toMatchObject({ status: 'skipped', statusReason: 'suppressed' });
  expect(r.body).toMatchObject({ quota: 400, claimedToday: 4, remainingToday: 396, replayed: false });

  // the same key: the same batch, no extra quota
  const again = await svc.api('POST', '/v1/batches/claim', { size: 4, idempotencyKey: 'monday' });
  expect(again.body).toMatchObject({ batchId: r.body.batchId, replayed: true, claimedToday: 4 });
  expect(again.body.leads).toEqual(r.body.leads);
});

test('claims not composed, or composed and not gated, before the lease ends return to new and come first again', async () => {
  // a service of its own: the sweep and the stats below count every claim of the database
  const svc = await startTestService({ COROFY_CLAIM_LEASE_SECONDS: '600' });
  try {
    const earlier = await importLeads(svc, 4, 'earlier');
    expect((await svc.api('POST', '/v1/batches/claim', { size: 4 })).body.leads.map((l: { id: string }) => l.id)).toEqual(earlier);
    const before = await svc.api('GET', '/v1/stats');
    const ids = await importLeads(svc, 3, 'lease');
    const r = await svc.api('POST', '/v1/batches/claim', { size: 3 });
    expect(r.body.leads.map((l: { id: string }) => l.id)).toEqual(ids);
    // one of them gets composed, but nothing gates it (no quota room, or the workflow stopped)
    await composeLeads(svc, [ids[0]!]);

    const early = await svc.deps.db.call<{ releasedClaims: number }>('sweep', { p_now: new Date(Date.now() + 590_000) });
    expect(early.releasedClaims).toBe(0);
    expect(before.body.used).toBe(4);
    expect((await svc.api('GET', '/v1/stats')).body.used).toBe(7);
    const late = await svc.deps.db.call<{ releasedClaims: number }>('sweep', { p_now: new Date(Date.now() + 610_000) });
    expect(late.releasedClaims).toBe(3 + 4); // and the four of the earlier batch, never composed
    expect((await svc.api('GET', `/v1/leads/${ids[0]}`)).body.status).toBe('new');
    expect((await svc.api('GET', `/v1/leads/${ids[1]}`)).body.status).toBe('new');
    expect((await svc.api('GET', '/v1/stats')).body.used).toBe(0); // nothing holds quota any more
    expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));

    const next = await svc.api('POST', '/v1/batches/claim', { size: 7 });
    expect(next.body.leads.map((l: { id: string }) => l.id)).toEqual([...earlier, ...ids]);
    // the old batch no longer lists the leads it lost
    const twin = await rawSql(svc)('select count(*)::int as n from leads where batch_id = $1', [r.body.batchId]);
    expect(twin[0].n).toBe(0);
  } finally {
    await stopService(svc);
  }
});

test('the batch is limited by the remaining quota, and a quota of 0 claims nothing', async () => {
  await svc.api('PUT', '/v1/senders/small', { dailyQuota: 2 });
  await importLeads(svc, 5, 'small');
  const a = await svc.api('POST', '/v1/batches/claim', { sender: 'small' });
  expect(a.body).toMatchObject({ sender: 'small', quota: 2, claimedToday: 2, remainingToday: 0 });
  expect(a.body.leads).toHaveLength(2);
  const b = await svc.api('POST', '/v1/batches/claim', { sender: 'small', size: 10 });
  expect(b.body.leads).toEqual([]);
  await svc.api('PUT', '/v1/senders/zero', { dailyQuota: 0 });
  const z = await svc.api('POST', '/v1/batches/claim', { sender: 'zero', size: 10 });
  expect(z.body).toMatchObject({ quota: 0, remainingToday: 0, leads: [] });
});

test('a lead that replied while it waited in the queue is never claimed, and its queue place goes', async () => {
  const ids = await importLeads(svc, 3, 'early');
  const reply = await svc.api('POST', '/v1/events', { kind: 'reply', email: 'early1@example.com', text: 'we already talked' });
  expect(reply.body).toMatchObject({ leadId: ids[1], status: 'replied' });
  const queued = async () =>
    (await rawSql(svc)('select lead_id::text as id from lead_queue where lead_id = any($1) order by 1', [ids])).map((r) => r.id);
  expect(await queued()).toEqual(ids); // still queued: the claim drops it when it meets it

  const r = await svc.api('POST', '/v1/batches/claim', { size: 100 }); // everything still new
  const got = r.body.leads.map((l: { id: string }) => l.id);
  expect(got).toEqual(expect.arrayContaining([ids[0], ids[2]]));
  expect(got).not.toContain(ids[1]);
  expect(r.body.skipped).toEqual([]);
  expect((await svc.api('GET', `/v1/leads/${ids[1]}`)).body.status).toBe('replied');
  expect(await queued()).toEqual([]);
  expect(await claimBookkeepingGaps(svc)).toEqual({ unqueued: [], unsweepable: [] });
});

test('a claim released by the sweeper is queued again; its batch is settled once nothing of it is out', async () => {
  await svc.api('PUT', '/v1/senders/settle', { dailyQuota: 10 });
  const ids = await importLeads(svc, 2, 'settle');
  const r = await svc.api('POST', '/v1/batches/claim', { sender: 'settle' });
  expect(r.body.leads.map((l: { id: string }) => l.id)).toEqual(ids);
  const batch = async () =>
    (await rawSql(svc)('select lease_settled_at is not null as settled from batches where id = $1', [r.body.batchId]))[0];
  expect(await batch()).toEqual({ settled: false });

  const swept = await svc.deps.db.call<{ releasedClaims: number }>('sweep', { p_now: new Date(Date.now() + 3_600_000) });
  expect(swept.releasedClaims).toBeGreaterThanOrEqual(2);
  expect(await batch()).toEqual({ settled: true });
  const queued = await rawSql(svc)('select lead_id::text as id from lead_queue where lead_id = any($1) order by 1', [ids]);
  expect(queued.map((q) => q.id)).toEqual(ids);
  expect(await claimBookkeepingGaps(svc)).toEqual({ unqueued: [], unsweepable: [] });
});

(process.env.TEST_DATABASE_URL ? test : test.skip)(
  'a claimed lead another transaction holds during the sweep keeps its batch open and is released by the next sweep',
  async () => {
    await svc.api('PUT', '/v1/senders/held', { dailyQuota: 100 });
    const ids = await importLeads(svc, 2, 'held');
    const r = await svc.api('POST', '/v1/batches/claim', { sender: 'held', size: 100 });
    const mine = r.body.leads.map((l: { id: string }) => l.id);
    expect(mine).toEqual(expect.arrayContaining(ids));
    const holder = new pg.Client({ connectionString: svc.database.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select id from leads where id = $1 for update', [ids[0]]);
      const later = new Date(Date.now() + 3_600_000);
      await svc.deps.db.call('sweep', { p_now: later });
      const state = async () =>
        (await rawSql(svc)(
          `select (select status from leads where id = $1) as held, (select status from leads where id = $2) as other,
                  (select lease_settled_at is not null from batches where id = $3) as settled`,
          [ids[0], ids[1], r.body.batchId],
        ))[0];
      expect(await state()).toEqual({ held: 'claimed', other: 'new', settled: false });
      await holder.query('commit');
      await svc.deps.db.call('sweep', { p_now: later });
      expect(await state()).toEqual({ held: 'new', other: 'new', settled: true });
      expect(await claimBookkeepingGaps(svc)).toEqual({ unqueued: [], unsweepable: [] });
    } finally {
      await holder.end();
    }
  },
);

test('the claim answer, sent as the database wrote it, is exactly the documented Batch: no missing, extra or null fields', async () => {
  const ids = await importLeads(svc, 2, 'shape');
  await rawSql(svc)(
    `update leads set last_name = 'Shape', title = 'Buyer', company_name = 'Shape "Quoted" Co', company_domain = 'shape.example',
            website = 'https://shape.example', industry = 'Lubricants', country = 'DE', state = 'BE', city = 'Berlin',
            timezone = 'Europe/Berlin', linkedin_url = 'https://linkedin.example/in/shape', external_id = 'crm-1', apollo_id = 'ap-1'
      where id = $1`,
    [ids[0]],
  );
  const r = await svc.api('POST', '/v1/batches/claim', { size: 100 });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  expect(() => BatchSchema.strict().parse(r.body)).not.toThrow();
  const full = r.body.leads.find((l: { id: string }) => l.id === ids[0]);
  const bare = r.body.leads.find((l: { id: string }) => l.id === ids[1]);
  expect(LeadSchema.strict().parse(full)).toEqual(full);
  expect(full).toMatchObject({ companyName: 'Shape "Quoted" Co', externalId: 'crm-1', apolloId: 'ap-1', status: 'claimed' });
  expect(Object.keys(bare).sort()).toEqual(['createdAt', 'email', 'firstName', 'id', 'status', 'step']);
  expect(Object.values(full)).not.toContain(null);
  expect(Number.isNaN(Date.parse(full.createdAt))).toBe(false);
});

(process.env.TEST_DATABASE_URL ? test : test.skip)(
  'a claim never waits for a lead someone else holds (it holds the quota row): the lead stays queued and comes first next time',
  async () => {
    await svc.api('PUT', '/v1/senders/busy', { dailyQuota: 1000 });
    await svc.api('POST', '/v1/batches/claim', { sender: 'busy', size: 1000 }); // nothing new left before ours
    const ids = await importLeads(svc, 3, 'busy');
    const holder = new pg.Client({ connectionString: svc.database.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select id from leads where id = $1 for update', [ids[0]]);
      const r = await svc.api('POST', '/v1/batches/claim', { sender: 'busy', size: 2 });
      expect(r.status).toBe(200);
      expect(r.body.leads.map((l: { id: string }) => l.id)).toEqual([ids[1], ids[2]]);
      await holder.query('commit');
      const next = await svc.api('POST', '/v1/batches/claim', { sender: 'busy', size: 2 });
      expect(next.body.leads.map((l: { id: string }) => l.id)).toEqual([ids[0]]);
      expect(await claimBookkeepingGaps(svc)).toEqual({ unqueued: [], unsweepable: [] });
    } finally {
      await holder.end();
    }
  },
);
