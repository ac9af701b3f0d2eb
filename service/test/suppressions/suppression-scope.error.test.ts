// Invariant 4 at its edges: a suppressed domain covers the domains under it, a
// suppressed address covers its "+tag" variants, a suppressed company domain
// covers every lead of the company, and look-alikes are not covered. Checked on every path that decides whether mail may go out: the
// claim, suppressing (cancelling pending sends), claim-due, the Apollo intake
// and compose's refusal.
import { importLeads, rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

async function importEmails(emails: string[]): Promise<string[]> {
  const r = await svc.api('POST', '/v1/leads/import', { leads: emails.map((email) => ({ email })) });
  expect(r.status).toBe(200);
  return r.body.leadIds;
}

test('the claim skips subdomains of a suppressed domain and +tag variants of a suppressed address, and only those', async () => {
  await svc.api('POST', '/v1/suppressions', { domain: 'acme.test', reason: 'customer asked' });
  await svc.api('POST', '/v1/suppressions', { email: 'john@mail.test', reason: 'unsubscribed' });
  const ids = await importEmails([
    'buyer@eu.sales.acme.test', // under the domain: skipped
    'ceo@ACME.test', // the domain itself: skipped
    'John+Offers@mail.test', // the same inbox: skipped
    'someone@notacme.test', // a look-alike, not a subdomain: claimed
    'x@acme.test.example', // acme.test is not its parent: claimed
    'johnny@mail.test', // another person: claimed
    'john@eu.mail.test', // a different domain than the address: claimed
  ]);
  const r = await svc.api('POST', '/v1/batches/claim', { size: 100 });
  expect(r.body.skipped).toEqual(ids.slice(0, 3).map((leadId) => ({ leadId, reason: 'suppressed' })));
  expect(r.body.leads.map((l: { id: string }) => l.id)).toEqual(ids.slice(3));
});

test('suppressing a domain cancels pending sends to addresses under it; claim-due never hands one out', async () => {
  await importEmails(['a@eu.globex.test', 'b@globex.test', 'c@globex-other.test']);
  const batch = await svc.api('POST', '/v1/batches/claim', { size: 100 });
  const byEmail = Object.fromEntries(batch.body.leads.map((l: { id: string; email: string }) => [l.email, l.id]));
  const now = Date.now();
  await scheduleSends(svc, Object.values(byEmail) as string[], new Date(now - 60_000), new Date(now + 3_600_000));

  const add = await svc.api('POST', '/v1/suppressions', { domain: 'globex.test', reason: 'asked' });
  expect(add.body.cancelledSends).toBe(2);

  // a suppression that reached the table without cancelling anything (imported by
  // hand) still stops claim-due: the send to the +tag address stays where it is
  await importEmails(['mary+news@initech.test']);
  const late = await svc.api('POST', '/v1/batches/claim', { size: 100 });
  expect(late.body.leads.map((l: { email: string }) => l.email)).toEqual(['mary+news@initech.test']);
  await scheduleSends(svc, [late.body.leads[0].id], new Date(now - 60_000), new Date(now + 3_600_000));
  await rawSql(svc)("insert into suppressions (value, kind, reason) values ('mary@initech.test', 'email', 'by hand')");

  const due = await svc.api('POST', '/v1/sends/claim-due', {});
  expect(due.body.sends.map((s: { to: string }) => s.to)).toEqual(['c@globex-other.test']);
});

test('Apollo intake drops people under a suppressed domain (address or company domain) and +tag variants', async () => {
  await svc.api('POST', '/v1/suppressions', { domain: 'umbrella.test', reason: 'asked' });
  await svc.api('POST', '/v1/suppressions', { email: 'ann@hooli.test', reason: 'bounced' });
  const search = await svc.deps.db.call<{ searchId: string }>('apollo_search_start', { p_filters: {}, p_leads_wanted: 10 });
  const people = [
    { email: 'p1@labs.umbrella.test', apolloId: 'ap-1' },
    { email: 'p2@gmail.test', companyDomain: 'research.umbrella.test', apolloId: 'ap-2' },
    { email: 'ann+apollo@hooli.test', apolloId: 'ap-3' },
    { email: 'p4@umbrella-corp.test', companyDomain: 'umbrella-corp.test', apolloId: 'ap-4' },
    { email: 'p5@Labs.Umbrella.test.', apolloId: 'ap-5' }, // a final dot is the same domain
  ];
  const r = await svc.deps.db.call<{ leads: { email: string }[] }>('apollo_search_record', {
    p_search_id: search.searchId,
    p_leads: people,
    p_delta: {},
  });
  expect(r.leads.map((l) => l.email)).toEqual(['p4@umbrella-corp.test']);
});

test("compose refuses a claimed lead whose company domain sits under a suppressed domain", async () => {
  const [id] = await importEmails(['head@freemail.test']);
  await rawSql(svc)("update leads set company_domain = 'shop.wayne.test' where id = $1", [id]);
  const batch = await svc.api('POST', '/v1/batches/claim', { size: 100 });
  expect(batch.body.leads.map((l: { id: string }) => l.id)).toContain(id);
  await svc.api('POST', '/v1/suppressions', { domain: 'wayne.test', reason: 'asked' });
  const skipped = await svc.deps.db.call<{ skipped: boolean }>('skip_suppressed_lead', { p_lead_id: id });
  expect(skipped.skipped).toBe(true);
  expect((await svc.api('GET', `/v1/leads/${id}`)).body).toMatchObject({ status: 'skipped', statusReason: 'suppressed' });
});

test('a suppressed company stops every lead of that company, whatever their mailbox domain, on every path', async () => {
  const r = await svc.api('POST', '/v1/leads/import', {
    leads: [
      { email: 'ana@initrode-mail.test', companyDomain: 'initrode.test' },
      { email: 'bo@freemail.test', companyDomain: 'eu.initrode.test' },
      { email: 'cy@initrode-mail.test', companyDomain: 'initrode.test' },
      { email: 'di@initrode-mail.test', companyDomain: 'other.test' },
    ],
  });
  const [ana, bo, cy, di] = r.body.leadIds as string[];
  // ana is claimed and scheduled before her company is suppressed
  const first = await svc.api('POST', '/v1/batches/claim', { size: 100 });
  expect(first.body.leads.map((l: { id: string }) => l.id)).toEqual(expect.arrayContaining([ana, bo, cy, di]));
  const now = Date.now();
  await scheduleSends(svc, [ana!], new Date(now - 60_000), new Date(now + 3_600_000));

  const add = await svc.api('POST', '/v1/suppressions', { domain: 'initrode.test', reason: 'the company asked' });
  expect(add.body.cancelledSends).toBe(1); // suppressing cancels the company's pending send
  expect((await svc.api('GET', `/v1/leads/${ana}`)).body.status).toBe('skipped');

  // compose refuses the company's claimed leads, not the others
  const composed = await svc.api('POST', '/v1/compose', { leadIds: [bo, cy] });
  expect(composed.body.failed.map((f: { code: string }) => f.code)).toEqual(['lead_suppressed', 'lead_suppressed']);

  // the claim skips the company's new leads
  const more = await svc.api('POST', '/v1/leads/import', {
    leads: [
      { email: 'ed@freemail.test', companyDomain: 'initrode.test' },
      { email: 'flo@freemail.test', companyDomain: 'globo.test' },
    ],
  });
  const [ed, flo] = more.body.leadIds as string[];
  const second = await svc.api('POST', '/v1/batches/claim', { size: 100 });
  expect(second.body.skipped).toEqual(expect.arrayContaining([{ leadId: ed, reason: 'suppressed' }]));
  expect(second.body.leads.map((l: { id: string }) => l.id)).toContain(flo);
  expect(second.body.leads.map((l: { id: string }) => l.id)).not.toContain(ed);

  // claim-due never hands out a send to a lead whose company is suppressed
  await scheduleSends(svc, [di!], new Date(now - 60_000), new Date(now + 3_600_000));
  await rawSql(svc)("update leads set company_domain = 'initrode.test' where id = $1", [di]);
  const due = await svc.api('POST', '/v1/sends/claim-due', {});
  expect(due.body.sends.map((s: { leadId: string }) => s.leadId)).not.toContain(di);
});
