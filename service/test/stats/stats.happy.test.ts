import { importLeads, rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

test('stats answer every documented field, and the OpenAPI schema lists exactly those', async () => {
  await svc.api('PUT', '/v1/senders/default', { dailyQuota: 7 });
  await svc.api('POST', '/v1/leads/import', { leads: [1, 2, 3].map((i) => ({ email: `s${i}@example.com` })) });
  await svc.api('POST', '/v1/batches/claim', { size: 2 });

  const stats = await svc.api('GET', '/v1/stats');
  expect(stats.body).toMatchObject({ sender: 'default', quota: 7, claimed: 2, used: 2, remaining: 5, batchedLeads: 2 });
  const doc = await svc.api('GET', '/openapi.json');
  const documented = Object.keys(doc.body.components.schemas.Stats.properties).sort();
  expect(Object.keys(stats.body).sort()).toEqual(documented);
});

test("replies, bounces and unsubscribes count for the sender whose email they answer, not for every sender", async () => {
  await svc.api('PUT', '/v1/senders/alpha', { dailyQuota: 10, timezone: 'UTC' });
  await svc.api('PUT', '/v1/senders/beta', { dailyQuota: 10, timezone: 'UTC' });
  const now = Date.now();
  const sent: Record<string, { id: string; email: string }[]> = {};
  for (const sender of ['alpha', 'beta']) {
    await importLeads(svc, 3, `${sender}x`);
    const claim = await svc.api('POST', '/v1/batches/claim', { sender, size: 3 });
    const leads = claim.body.leads as { id: string; email: string }[];
    const sends = await scheduleSends(svc, leads.map((l) => l.id), new Date(now - 60_000), new Date(now + 3_600_000));
    await svc.api('POST', '/v1/sends/claim-due', { sender });
    await svc.api('POST', '/v1/sends/report', {
      results: sends.map((s: { sendId: string }, i: number) => ({ sendId: s.sendId, status: 'sent', messageId: `<${sender}-${i}@m.test>` })),
    });
    sent[sender] = leads;
  }
  // alpha: a reply matched by In-Reply-To, a bounce matched by address; beta: an unsubscribe
  await svc.api('POST', '/v1/events', { kind: 'reply', inReplyTo: '<alpha-0@m.test>', email: 'someone@else.test', text: 'tell me more' });
  await svc.api('POST', '/v1/events', { kind: 'bounce', email: sent.alpha![1]!.email });
  await svc.api('POST', '/v1/events', { kind: 'unsubscribe', email: sent.beta![2]!.email });
  // an opt-out from an address we never wrote to belongs to no sender
  await svc.api('POST', '/v1/events', { kind: 'unsubscribe', email: 'stranger@nowhere.test' });
  expect((await rawSql(svc)('select count(*)::int as n from events'))[0].n).toBe(4);

  const alpha = (await svc.api('GET', '/v1/stats?sender=alpha')).body;
  const beta = (await svc.api('GET', '/v1/stats?sender=beta')).body;
  expect(alpha).toMatchObject({ sent: 3, replied: 1, bounced: 1, unsubscribed: 0 });
  expect(beta).toMatchObject({ sent: 3, replied: 0, bounced: 0, unsubscribed: 1 });
  expect((await svc.api('GET', '/v1/stats')).body).toMatchObject({ replied: 0, bounced: 0, unsubscribed: 0 });
});
