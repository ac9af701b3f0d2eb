import {
  importLeads,
  ledgerCounts,
  ledgerFromRows,
  rawSql,
  scheduleSends,
  stopService,
} from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
const MIN = 60_000;
beforeAll(async () => {
  svc = await startTestService({ COROFY_SEND_MAX_ATTEMPTS: '3', COROFY_RETRY_BACKOFF_SECONDS: '60' });
});
afterAll(() => stopService(svc));

async function claimAndSchedule(n: number, sendAt: Date, windowEnd: Date, prefix: string) {
  await importLeads(svc, n, prefix);
  const batch = await svc.api('POST', '/v1/batches/claim', { size: n });
  expect(batch.body.leads).toHaveLength(n);
  return scheduleSends(svc, batch.body.leads.map((l: { id: string }) => l.id), sendAt, windowEnd);
}

test('claim-due hands out only due sends inside their window, leased once, with unsubscribe headers', async () => {
  const now = Date.now();
  const due = await claimAndSchedule(3, new Date(now - MIN), new Date(now + 60 * MIN), 'due');
  const later = await claimAndSchedule(1, new Date(now + 30 * MIN), new Date(now + 60 * MIN), 'later');
  const missed = await claimAndSchedule(1, new Date(now - 120 * MIN), new Date(now - MIN), 'missed');

  const first = await svc.api('POST', '/v1/sends/claim-due', { limit: 10 });
  expect(first.status).toBe(200);
  expect(first.body.sends.map((s: { sendId: string }) => s.sendId).sort()).toEqual(due.map((s) => s.sendId).sort());
  for (const s of first.body.sends) {
    expect(s).toMatchObject({ status: 'sending', attempts: 1, listUnsubscribePost: 'List-Unsubscribe=One-Click' });
    expect(s.listUnsubscribe).toBe(`<${s.unsubscribeUrl}>`);
    expect(s.unsubscribeUrl).toMatch(new RegExp(`^${svc.url}/unsubscribe/${s.leadId}\\.[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(s.leaseExpiresAt)).toBeGreaterThan(now);
  }
  const second = await svc.api('POST', '/v1/sends/claim-due', {});
  expect(second.body.sends).toEqual([]);
  const pending = await svc.api('GET', '/v1/sends?status=scheduled');
  expect(pending.body.sends.map((s: { sendId: string }) => s.sendId).sort()).toEqual(
    [later[0].sendId, missed[0].sendId].sort(),
  );
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));
  const sent = await svc.api('POST', '/v1/sends/report', {
    results: first.body.sends.map((s: { sendId: string }) => ({ sendId: s.sendId, status: 'sent' })),
  });
  expect(sent.body.recorded).toBe(3);
});

test('report: sent, transient failure with backoff, permanent failure dead and suppressed; twice is harmless', async () => {
  const now = Date.now();
  await claimAndSchedule(3, new Date(now - MIN), new Date(now + 600 * MIN), 'rep');
  const leased = (await svc.api('POST', '/v1/sends/claim-due', { limit: 10 })).body.sends;
  expect(leased).toHaveLength(3);
  const [a, b, c] = leased;
  const results = [
    { sendId: a.sendId, status: 'sent', messageId: '<m-a@mail.test>' },
    { sendId: b.sendId, status: 'failed', error: '421 try later' },
    { sendId: c.sendId, status: 'failed', error: '550 no such user', permanent: true },
  ];
  const r1 = await svc.api('POST', '/v1/sends/report', { results });
  expect(r1.status).toBe(200);
  expect(r1.body).toMatchObject({ recorded: 3, retrying: 1, deadLettered: 1, duplicates: 0, ignored: [] });
  const r2 = await svc.api('POST', '/v1/sends/report', { results });
  expect(r2.body).toMatchObject({ recorded: 0, retrying: 0, deadLettered: 0, duplicates: 3 });

  const byId = async (id: string) =>
    (await svc.api('GET', `/v1/sends?limit=500`)).body.sends.find((s: { sendId: string }) => s.sendId === id);
  expect(await byId(a.sendId)).toMatchObject({ status: 'sent', messageId: 'm-a@mail.test' });
  const retrying = await byId(b.sendId);
  expect(retrying).toMatchObject({ status: 'failed', lastError: '421 try later', attempts: 1 });
  expect(Date.parse(retrying.sendAt) - Date.now()).toBeGreaterThan(50_000); // backoff base 60 s
  expect(await byId(c.sendId)).toMatchObject({ status: 'dead', lastError: '550 no such user' });
  expect((await svc.api('GET', `/v1/leads/${c.leadId}`)).body.status).toBe('bounced');
  const sup = await svc.api('GET', '/v1/suppressions');
  expect(sup.body.suppressions).toEqual([expect.objectContaining({ value: c.to, kind: 'email', reason: 'bounce' })]);

  // the retry is not due before its backoff; then it is, and the backoff doubles
  expect((await svc.api('POST', '/v1/sends/claim-due', {})).body.sends).toEqual([]);
  const t2 = new Date(Date.now() + 61_000);
  const again = await svc.deps.db.call<{ sends: any[] }>('claim_due_sends', { p_now: t2 });
  expect(again.sends.map((s) => s.sendId)).toEqual([b.sendId]);
  await svc.deps.db.call('report_sends', {
    p_results: [{ sendId: b.sendId, status: 'failed', error: 'timeout' }],
    p_max_attempts: 3,
    p_backoff_seconds: 60,
    p_now: t2,
  });
  const second = await byId(b.sendId);
  expect(Date.parse(second.sendAt) - t2.getTime()).toBe(120_000);
  // third attempt fails: max attempts reached, dead letter
  const t3 = new Date(t2.getTime() + 121_000);
  expect((await svc.deps.db.call<{ sends: any[] }>('claim_due_sends', { p_now: t3 })).sends).toHaveLength(1);
  const last = await svc.deps.db.call('report_sends', {
    p_results: [{ sendId: b.sendId, status: 'failed', error: 'timeout' }],
    p_max_attempts: 3,
    p_backoff_seconds: 60,
    p_now: t3,
  });
  expect(last).toMatchObject({ deadLettered: 1, retrying: 0 });
  expect((await byId(b.sendId)).status).toBe('dead');
  expect((await svc.api('GET', `/v1/leads/${b.leadId}`)).body).toMatchObject({ status: 'dead' });
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));
});

test('a send whose lease runs out while sending goes to needs_review, never back to the queue; retry is explicit', async () => {
  const now = Date.now();
  await claimAndSchedule(1, new Date(now - MIN), new Date(now + 600 * MIN), 'lease');
  const [s] = (await svc.api('POST', '/v1/sends/claim-due', {})).body.sends;
  const sweep = await svc.deps.db.call<{ needsReview: number }>('sweep', { p_now: new Date(now + 11 * MIN) });
  expect(sweep.needsReview).toBe(1);
  expect((await svc.deps.db.call<{ sends: any[] }>('claim_due_sends', { p_now: new Date(now + 12 * MIN) })).sends).toEqual([]);
  const review = await svc.api('GET', '/v1/sends?status=needs_review');
  expect(review.body.sends.map((x: { sendId: string }) => x.sendId)).toEqual([s.sendId]);
  expect((await svc.api('GET', `/v1/leads/${s.leadId}`)).body.status).toBe('needs_review');
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));

  // a late "sent" report settles it
  const late = await svc.api('POST', '/v1/sends/report', { results: [{ sendId: s.sendId, status: 'sent' }] });
  expect(late.body.recorded).toBe(1);
  const again = await svc.api('POST', `/v1/sends/${s.sendId}/retry`);
  expect(again.status).toBe(409);
  expect(again.body.code).toBe('send_not_retryable');
});

test('retry puts a needs_review send back into the recipient\'s next window with quota room', async () => {
  const now = Date.now();
  await claimAndSchedule(1, new Date(now - MIN), new Date(now + 600 * MIN), 'retry');
  const [s] = (await svc.api('POST', '/v1/sends/claim-due', {})).body.sends;
  await svc.deps.db.call('sweep', { p_now: new Date(now + 11 * MIN) });
  const r = await svc.api('POST', `/v1/sends/${s.sendId}/retry`);
  expect(r.status).toBe(200);
  expect(r.body.status).toBe('scheduled');
  const at = new Date(r.body.sendAt);
  // default window Mon-Fri 09:00-17:00 in the recipient's zone (UTC here)
  expect(at.getTime()).toBeGreaterThanOrEqual(now - 1000);
  expect(at.getUTCDay()).toBeGreaterThanOrEqual(1);
  expect(at.getUTCDay()).toBeLessThanOrEqual(5);
  expect(at.getUTCHours()).toBeGreaterThanOrEqual(9);
  expect(at.getUTCHours()).toBeLessThan(17);
  expect(Date.parse(r.body.windowEnd)).toBeGreaterThan(at.getTime());
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));
  const rows = await rawSql(svc)('select status from sends where id = $1', [s.sendId]);
  expect(rows[0].status).toBe('scheduled');
});

test('a repeated failure report about an earlier attempt cannot fail the attempt now in flight', async () => {
  const now = Date.now();
  await claimAndSchedule(1, new Date(now - MIN), new Date(now + 600 * MIN), 'stale');
  const [first] = (await svc.api('POST', '/v1/sends/claim-due', {})).body.sends;
  const failure = { sendId: first.sendId, status: 'failed', error: 'timeout', attempt: first.attempts };
  expect((await svc.api('POST', '/v1/sends/report', { results: [failure] })).body.retrying).toBe(1);
  // the retry is handed out again (attempt 2) ...
  const t = new Date(Date.now() + 61_000);
  const [second] = (await svc.deps.db.call<{ sends: any[] }>('claim_due_sends', { p_now: t })).sends;
  expect(second).toMatchObject({ sendId: first.sendId, attempts: 2, status: 'sending' });
  // ... and the first failure report arrives once more (a network retry of n8n's request)
  const again = await svc.api('POST', '/v1/sends/report', { results: [failure] });
  expect(again.body).toMatchObject({ recorded: 0, retrying: 0 });
  expect(again.body.ignored[0].reason).toMatch(/stale/);
  const list = await svc.api('GET', `/v1/sends?leadId=${first.leadId}`);
  expect(list.body.sends[0]).toMatchObject({ status: 'sending', attempts: 2 });
  const sent = await svc.api('POST', '/v1/sends/report', { results: [{ sendId: first.sendId, status: 'sent', attempt: 2 }] });
  expect(sent.body.recorded).toBe(1);
});
