// Compose refuses a claimed lead whose address, domain or company domain is
// suppressed. The lead must end there (skipped, with the reason) and give its
// claim back; left 'claimed' it held the day's quota until its lease ran out,
// went back to new, and was claimed and refused again on every later run.
import { runSweep } from '../../src/sweeper/sweeper';
import { ledger, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc)); // also ends the raw SQL pool of sends-fixture before the drop

test('a lead suppressed between claim and compose is skipped by compose and frees its quota; it is never claimed again', async () => {
  const imp = await svc.api('POST', '/v1/leads/import', {
    leads: [
      { email: 'bob@acme-mail.example', firstName: 'Bob', companyDomain: 'acme.example' },
      { email: 'eve@Late-Optout.example', firstName: 'Eve' },
    ],
  });
  const [bob, eve] = imp.body.leadIds;
  const batch = await svc.api('POST', '/v1/batches/claim', { size: 2 });
  expect(batch.body.leads.map((l: any) => l.id)).toEqual([bob, eve]);

  // after the claim: Bob's company (not his mail domain) and Eve's whole domain opt out
  expect((await svc.api('POST', '/v1/suppressions', { domain: 'acme.example', reason: 'company asked' })).status).toBe(200);
  expect((await svc.api('POST', '/v1/suppressions', { domain: 'late-optout.example', reason: 'domain opt-out' })).status).toBe(200);

  const r = await svc.api('POST', '/v1/compose', { leadIds: [bob, eve] });
  expect(r.status).toBe(200);
  expect(r.body.failed.map((f: any) => [f.leadId, f.code])).toEqual([
    [bob, 'lead_suppressed'],
    [eve, 'lead_suppressed'],
  ]);
  for (const id of [bob, eve]) {
    expect((await svc.api('GET', `/v1/leads/${id}`)).body).toMatchObject({ status: 'skipped', statusReason: 'suppressed' });
  }
  expect((await ledger(svc))[`default/${batch.body.day}`]).toMatchObject({ claimed: 0 });

  // later runs never claim them again
  await runSweep(svc.deps, new Date(Date.now() + 3 * 3600_000));
  const next = await svc.api('POST', '/v1/batches/claim', {});
  expect(next.body.leads).toEqual([]);
});
