// Nothing lost between the claim, compose and the gate: a claim whose lease ran
// out while its compose was still in flight (the sweeper put the lead back to
// new, then the draft was stored) is claimed again later; compose then answers
// with the stored draft and must make the lead composed, or the gate refuses it
// (not_composed) run after run and it never goes out.
import { runSweep } from '../../src/sweeper/sweeper';
import { gateAt } from '../gate/gate-fixture';
import { importLeads, ledger, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

test('a lead whose draft was stored after its claim ran out is composed by that draft when claimed again, and gated', async () => {
  const [id] = await importLeads(svc, 1, 'slowcompose');
  const claimedAt = new Date(Date.now() - 2 * 3600_000);
  const first = await svc.deps.db.call<any>('claim_batch', { p_sender: 'default', p_size: 1, p_lease_seconds: 3600, p_now: claimedAt });
  expect(first.leads.map((l: any) => l.id)).toEqual([id]);

  // the lease ran out while the AI was still writing: the sweeper releases the claim
  const sweep = await runSweep(svc.deps);
  expect(sweep.releasedClaims).toBe(1);
  // then the compose call finishes and stores its draft (the lead is new now, it stays new)
  const saved = await svc.deps.db.call<any>('save_draft', {
    p_lead_id: id,
    p_draft: { subject: 'Late subject', text: 'Late text', html: '<p>Late text</p>', product: null, source: 'generic', model: 'm' },
    p_regenerate: false,
  });
  expect(saved.ok).toBe(true);
  expect((await svc.api('GET', `/v1/leads/${id}`)).body.status).toBe('new');

  // the next run claims it again; compose answers with the stored draft (no AI needed)
  const again = await svc.api('POST', '/v1/batches/claim', { size: 1 });
  expect(again.body.leads.map((l: any) => l.id)).toEqual([id]);
  const composed = await svc.api('POST', '/v1/compose', { leadIds: [id] });
  expect(composed.status).toBe(200);
  expect(composed.body.emails).toMatchObject([{ leadId: id, subject: 'Late subject', generated: false }]);
  expect((await svc.api('GET', `/v1/leads/${id}`)).body.status).toBe('composed');

  const gated = await gateAt(svc, [id!], new Date(Date.now() + 60_000));
  expect(gated.skipped).toEqual([]);
  expect([...gated.sendNow, ...gated.scheduled]).toMatchObject([{ leadId: id, subject: 'Late subject' }]);
  // the second claim's day gave its claim back when the send was made
  const today = again.body.day;
  expect((await ledger(svc))[`default/${today}`]!.claimed).toBe(0);
});
