// Erasures racing the send queue: 100 erasures and 20 claim-due callers at
// once over 200 due sends. A send is either handed out before its person was
// erased (the erasure then cancelled nothing: it was out) or cancelled by the
// erasure, never both, never handed out after; the quota ledger still equals
// the rows, and nothing of an erased person is left on their send.
import { importLeads, ledgerCounts, ledgerFromRows, rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ DATABASE_POOL_SIZE: '20' });
}, 240_000);
afterAll(() => stopService(svc));

test('100 erasures racing 20 claim-due callers: an erased person’s send is cancelled or was already out, never handed out after', async () => {
  const ids = await importLeads(svc, 200, 'race-erase');
  await svc.api('POST', '/v1/batches/claim', { size: 200 });
  const now = Date.now();
  await scheduleSends(svc, ids, new Date(now - 60_000), new Date(now + 3_600_000));
  const doomed = ids.filter((_, i) => i % 2 === 0);

  const [erasures, drains] = await Promise.all([
    Promise.all(doomed.map((id) => svc.api('DELETE', `/v1/leads/${id}?erase=true`))),
    Promise.all(Array.from({ length: 20 }, () => svc.api('POST', '/v1/sends/claim-due', { limit: 10 }))),
  ]);
  expect(erasures.map((e) => e.status)).toEqual(erasures.map(() => 200));
  expect(drains.map((d) => d.status)).toEqual(drains.map(() => 200));
  const handedOut = new Map<string, { to: string }>(
    drains.flatMap((d) => d.body.sends.map((s: { leadId: string; to: string }) => [s.leadId, s] as const)),
  );
  expect(handedOut.size).toBe(drains.reduce((n, d) => n + d.body.sends.length, 0)); // none twice

  for (const [i, id] of doomed.entries()) {
    const cancelled = erasures[i]!.body.cancelledSends;
    // out before the erasure, or cancelled by it: exactly one of the two
    expect({ id, out: handedOut.has(id), cancelled }).toEqual({ id, out: cancelled === 0, cancelled });
  }
  // after: nothing of them is handed out, whatever the time
  const later = await svc.deps.db.call<{ sends: { leadId: string }[] }>('claim_due_for_n8n', {
    p_limit: 500, p_now: new Date(now + 60_000),
  });
  const doomedSet = new Set(doomed);
  expect(later.sends.filter((s) => doomedSet.has(s.leadId))).toEqual([]);
  expect(later.sends.length + handedOut.size).toBe(200 - doomed.filter((_, i) => erasures[i]!.body.cancelledSends === 1).length);
  const rows = await rawSql(svc)(`select s.status, s.to_email, s.text, l.status as lead_status from sends s join leads l on l.id = s.lead_id
                                   where s.lead_id = any($1::bigint[])`, [doomed]);
  expect(rows.every((r) => r.to_email === '' && r.text === '' && r.lead_status === 'erased')).toBe(true);
  expect(new Set(rows.map((r) => r.status))).toEqual(new Set(rows.some((r) => r.status === 'sending') ? ['cancelled', 'sending'] : ['cancelled']));
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));
});
