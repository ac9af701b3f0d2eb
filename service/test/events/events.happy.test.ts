import {
  importLeads,
  ledger,
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
  svc = await startTestService();
});
afterAll(() => stopService(svc));

/** A lead whose step 1 was sent (with messageId) and whose step 2 is scheduled for later. */
async function sentLeadWithFollowUp(prefix: string, messageId: string) {
  const [id] = await importLeads(svc, 1, prefix);
  await svc.api('POST', '/v1/batches/claim', { size: 1 });
  const now = Date.now();
  const [step1] = await scheduleSends(svc, [id!], new Date(now - MIN), new Date(now + 600 * MIN));
  await svc.api('POST', '/v1/sends/claim-due', {});
  await svc.api('POST', '/v1/sends/report', { results: [{ sendId: step1.sendId, status: 'sent', messageId }] });
  const followUpAt = new Date(now + 3 * 86_400_000);
  const q = rawSql(svc);
  await q(`select ledger_adjust('default', (($1::timestamptz) at time zone 'UTC')::date, 0, 1, 0)`, [followUpAt.toISOString()]);
  await q(
    `insert into sends (lead_id, step, sender_id, day, status, to_email, subject, text, html, timezone,
                        timezone_source, send_at, window_end)
     select id, 2, 'default', (($2::timestamptz) at time zone 'UTC')::date, 'scheduled', email, 'Following up',
            'Hi again', '<p>Hi again</p>', 'UTC', 'test', $2, $2::timestamptz + interval '8 hours'
       from leads where id = $1`,
    [id, followUpAt.toISOString()],
  );
  return { id: id!, email: `${prefix}0@example.com` };
}

async function sendsOf(leadId: string) {
  return (await svc.api('GET', `/v1/sends?leadId=${leadId}`)).body.sends as { step: number; status: string }[];
}

test('a reply (matched by In-Reply-To) cancels the lead\'s scheduled sends; the same reply twice changes nothing', async () => {
  const lead = await sentLeadWithFollowUp('reply', '<abc-1@mail.test>');
  const reply = { kind: 'reply', inReplyTo: '<abc-1@mail.test>', email: 'someone-else@other.test', subject: 'Re: Hello', text: 'Tell me more' };
  const first = await svc.api('POST', '/v1/events', reply);
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({ leadId: lead.id, status: 'replied', cancelledSends: 1, duplicate: false, suppressed: false });
  const after = await sendsOf(lead.id);
  expect(after.find((s) => s.step === 2)?.status).toBe('cancelled');
  expect(after.find((s) => s.step === 1)?.status).toBe('sent');
  const ledgerAfter = await ledger(svc);

  const second = await svc.api('POST', '/v1/events', reply);
  expect(second.body).toMatchObject({ leadId: lead.id, status: 'replied', cancelledSends: 1, duplicate: true });
  expect(await ledger(svc)).toEqual(ledgerAfter);
  expect(await sendsOf(lead.id)).toEqual(after);
  const events = await rawSql(svc)("select count(*)::int as n from events where kind = 'reply'");
  expect(events[0].n).toBe(1);
  expect((await svc.api('GET', `/v1/leads/${lead.id}`)).body.status).toBe('replied');
  expect(await ledgerFromRows(svc)).toEqual(await ledgerCounts(svc));
});

test('matched by email when no message id is known; bounce, complaint and unsubscribe suppress the address', async () => {
  for (const kind of ['bounce', 'complaint', 'unsubscribe'] as const) {
    const lead = await sentLeadWithFollowUp(kind, `<${kind}@mail.test>`);
    const r = await svc.api('POST', '/v1/events', { kind, email: lead.email.toUpperCase() });
    expect(r.body).toMatchObject({
      leadId: lead.id,
      status: { bounce: 'bounced', complaint: 'complained', unsubscribe: 'unsubscribed' }[kind],
      cancelledSends: 1,
      suppressed: true,
    });
    const sup = await svc.api('GET', `/v1/suppressions?after=${encodeURIComponent(lead.email.slice(0, -1))}&limit=1`);
    expect(sup.body.suppressions[0]).toMatchObject({ value: lead.email, reason: kind });
  }
});

test('a reply saying stop suppresses the address too; a reply to a claimed lead releases its quota', async () => {
  const [id] = await importLeads(svc, 1, 'claimedreply');
  const batch = await svc.api('POST', '/v1/batches/claim', { size: 1 });
  expect(batch.body.leads.map((l: { id: string }) => l.id)).toEqual([id]);
  const before = batch.body.claimedToday;
  const r = await svc.api('POST', '/v1/events', { kind: 'reply', email: 'claimedreply0@example.com', text: 'STOP emailing me' });
  expect(r.body).toMatchObject({ leadId: id, status: 'replied', suppressed: true });
  const stats = await svc.api('GET', '/v1/stats');
  expect(stats.body.used).toBe(before - 1);
});

test('an event for an unknown lead is recorded with leadId null and changes no lead', async () => {
  const leadsBefore = await rawSql(svc)('select id, status from leads order by id');
  const r = await svc.api('POST', '/v1/events', { kind: 'reply', email: 'stranger@nowhere.test', text: 'who are you?' });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ leadId: null, status: null, cancelledSends: 0 });
  expect(await rawSql(svc)('select id, status from leads order by id')).toEqual(leadsBefore);
  // an address that bounced is suppressed even before we know it as a lead
  const b = await svc.api('POST', '/v1/events', { kind: 'bounce', email: 'gone@nowhere.test' });
  expect(b.body).toMatchObject({ leadId: null, suppressed: true });
  await svc.api('POST', '/v1/leads/import', { leads: [{ email: 'gone@nowhere.test' }] });
  const claim = await svc.api('POST', '/v1/batches/claim', { size: 50 });
  expect(claim.body.leads.map((l: { email: string }) => l.email)).not.toContain('gone@nowhere.test');
  expect(claim.body.skipped.length).toBeGreaterThan(0);
});
