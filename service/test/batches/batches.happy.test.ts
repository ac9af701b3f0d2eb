import { importLeads, ledgerCounts, ledgerFromRows, rawSql, stopService } from '../support/sends-fixture';
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
  const before = await svc.api('GET', '/v1/stats');
  const ids = await importLeads(svc, 3, 'lease');
  const r = await svc.api('POST', '/v1/batches/claim', { size: 3 });
  expect(r.body.leads.map((l: { id: string }) => l.id)).toEqual(ids);
  // one of them gets composed, but nothing gates it (no quota room, or the workflow stopped)
  await rawSql(svc)("update leads set status = 'composed' where id = $1", [ids[0]]);

  const early = await svc.deps.db.call<{ releasedClaims: number }>('sweep', { p_now: new Date(Date.now() + 590_000) });
  expect(early.releasedClaims).toBe(0);
  expect(before.body.used).toBe(4);
  expect((await svc.api('GET', '/v1/stats')).body.used).toBe(7);
  const late = await svc.deps.db.call<{ releasedClaims: number }>('sweep', { p_now: new Date(Date.now() + 610_000) });
  expect(late.releasedClaims).toBe(3 + 4); // and the four of the first test's batch, never composed
  expect((await svc.api('GET', `/v1/leads/${ids[0]}`)).body.status).toBe('new');
  expect((await svc.api('GET', `/v1/leads/${ids[1]}`)).body.status).toBe('new');
  expect((await svc.api('GET', '/v1/stats')).body.used).toBe(0); // nothing holds quota any more
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));

  const next = await svc.api('POST', '/v1/batches/claim', { size: 7 });
  const first = ['1', '3', '5', '6']; // the first test's leads (2 and 4 were skipped)
  expect(next.body.leads.map((l: { id: string }) => l.id)).toEqual([...first, ...ids]);
  // the old batch no longer lists the leads it lost
  const twin = await rawSql(svc)('select count(*)::int as n from leads where batch_id = $1', [r.body.batchId]);
  expect(twin[0].n).toBe(0);
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
