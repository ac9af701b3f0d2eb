import { importLeads, ledgerCounts, ledgerFromRows, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

test('suppressing a whole domain cancels its pending sends and skips its leads at claim time; lifting it works', async () => {
  await importLeads(svc, 2, 'early', 'acme.test');
  const batch = await svc.api('POST', '/v1/batches/claim', { size: 2 });
  const now = Date.now();
  await scheduleSends(svc, batch.body.leads.map((l: { id: string }) => l.id), new Date(now + 3_600_000), new Date(now + 7_200_000));
  await importLeads(svc, 2, 'late', 'ACME.test');
  await importLeads(svc, 1, 'other', 'other.test');

  const add = await svc.api('POST', '/v1/suppressions', { domain: 'www.Acme.test', reason: 'customer asked' });
  expect(add.status).toBe(200);
  expect(add.body).toMatchObject({ value: 'acme.test', kind: 'domain', reason: 'customer asked', cancelledSends: 2 });
  expect((await svc.api('GET', '/v1/sends?status=cancelled')).body.sends).toHaveLength(2);
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));

  const next = await svc.api('POST', '/v1/batches/claim', { size: 10 });
  expect(next.body.leads.map((l: { email: string }) => l.email)).toEqual(['other0@other.test']);
  expect(next.body.skipped.map((s: { reason: string }) => s.reason)).toEqual(['suppressed', 'suppressed']);

  const list = await svc.api('GET', '/v1/suppressions?kind=domain');
  expect(list.body.suppressions.map((s: { value: string }) => s.value)).toEqual(['acme.test']);
  const del = await svc.api('DELETE', '/v1/suppressions/acme.test');
  expect(del.status).toBe(200);
  expect((await svc.api('GET', '/v1/suppressions')).body.suppressions).toEqual([]);
  // adding the same suppression twice is harmless
  await svc.api('POST', '/v1/suppressions', { email: 'x@y.test', reason: 'a' });
  const twice = await svc.api('POST', '/v1/suppressions', { email: 'X@y.test', reason: 'b' });
  expect(twice.body).toMatchObject({ value: 'x@y.test', reason: 'a', cancelledSends: 0 });
});
