// The sweeper running inside the service (its own timer), not called by the test.
import { importLeads, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ COROFY_SWEEP_INTERVAL_MS: '200', COROFY_SEND_LEASE_SECONDS: '1' });
});
afterAll(() => stopService(svc));

test('the background sweeper turns an expired sending lease into needs_review and moves a missed send to its next window', async () => {
  const ids = await importLeads(svc, 2, 'sweep');
  await svc.api('POST', '/v1/batches/claim', { size: 2 });
  const now = Date.now();
  await scheduleSends(svc, [ids[0]!], new Date(now - 60_000), new Date(now + 3_600_000));
  const [leased] = (await svc.api('POST', '/v1/sends/claim-due', {})).body.sends;
  expect(leased.leadId).toBe(ids[0]);
  // made after the claim-due: the sweeper may move it into an open window at any moment,
  // and a claim-due after that would lease it too
  const [missed] = await scheduleSends(svc, [ids[1]!], new Date(now - 7_200_000), new Date(now - 3_600_000));

  const deadline = Date.now() + 10_000;
  let review: { sendId: string }[] = [];
  let moved: { sendAt: string; windowEnd: string } | undefined;
  while (Date.now() < deadline) {
    review = (await svc.api('GET', '/v1/sends?status=needs_review')).body.sends;
    moved = (await svc.api('GET', `/v1/sends?leadId=${ids[1]}`)).body.sends[0];
    if (review.length > 0 && Date.parse(moved!.windowEnd) > Date.now()) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(review.map((s) => s.sendId)).toEqual([leased.sendId]);
  expect(Date.parse(moved!.sendAt)).toBeGreaterThanOrEqual(now - 1000);
  expect(Date.parse(moved!.windowEnd)).toBeGreaterThan(Date.now());
  expect(moved).toMatchObject({ sendId: missed.sendId, status: 'scheduled' });
});
