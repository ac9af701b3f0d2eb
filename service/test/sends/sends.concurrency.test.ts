// Concurrent callers on the send side: claim-due never hands a send out twice,
// duplicate reports and duplicate events racing each other are recorded once.
import { importLeads, ledgerCounts, ledgerFromRows, rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ DATABASE_POOL_SIZE: '20' });
});
afterAll(() => stopService(svc));

test('20 concurrent claim-due callers, then every report sent 4 times at once: each send out once, recorded once', async () => {
  const ids = await importLeads(svc, 200, 'cc');
  await svc.api('POST', '/v1/batches/claim', { size: 200 });
  const now = Date.now();
  await scheduleSends(svc, ids, new Date(now - 60_000), new Date(now + 3_600_000));

  const answers = await Promise.all(Array.from({ length: 20 }, () => svc.api('POST', '/v1/sends/claim-due', { limit: 15 })));
  const out = answers.flatMap((a) => a.body.sends.map((s: { sendId: string }) => s.sendId));
  expect(out).toHaveLength(200);
  expect(new Set(out).size).toBe(200);

  const results = out.map((sendId, i) => ({ sendId, status: 'sent', messageId: `<m${i}@cc.test>` }));
  const chunks = [0, 1, 2, 3].map((k) => results.filter((_, i) => i % 4 === k));
  const reports = await Promise.all(
    [0, 1, 2, 3].flatMap(() => chunks.map((results) => svc.api('POST', '/v1/sends/report', { results }))),
  );
  expect(reports.every((r) => r.status === 200)).toBe(true);
  expect(reports.reduce((n, r) => n + r.body.recorded, 0)).toBe(200);
  expect(reports.reduce((n, r) => n + r.body.duplicates, 0)).toBe(600);
  const stats = await svc.api('GET', '/v1/stats');
  expect(stats.body).toMatchObject({ sent: 200, sending: 0, scheduled: 0 });
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));
});

test('the same reply five times at once: one event, one cancellation', async () => {
  const [id] = await importLeads(svc, 1, 'race');
  await svc.api('POST', '/v1/batches/claim', { size: 1 });
  const later = Date.now() + 86_400_000;
  await scheduleSends(svc, [id!], new Date(later), new Date(later + 3_600_000));
  const reply = { kind: 'reply', email: 'race0@example.com', subject: 'Re: hi', text: 'interested' };
  const answers = await Promise.all(Array.from({ length: 5 }, () => svc.api('POST', '/v1/events', reply)));
  expect(answers.every((a) => a.status === 200)).toBe(true);
  expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
  expect(answers.every((a) => a.body.leadId === id && a.body.cancelledSends === 1)).toBe(true);
  const events = await rawSql(svc)("select count(*)::int as n from events where email = 'race0@example.com'");
  expect(events[0].n).toBe(1);
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));
});
