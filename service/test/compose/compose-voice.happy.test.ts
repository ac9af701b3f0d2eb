// Compose speaks for the sender's company, in the recipient's language, at a
// known cost: every assertion reads what the fake OpenAI received or counted.
import { importLeads, promptData, sql, startComposeWorld, type ComposeWorld } from './compose-fixture';

let w: ComposeWorld;
beforeAll(async () => {
  w = await startComposeWorld({
    firecrawl: {
      pages: {
        'acme-lubes.example': {
          title: 'Acme Lubes - industrial greases',
          markdown: `# Acme Lubes\n\nAcme Lubes blends industrial greases and hydraulic fluid for mining and marine customers. It was founded in 1921.\n\n${'Our plants run around the clock. '.repeat(150)}`,
        },
      },
    },
  });
});
afterAll(async () => w?.stop());

const compose = (body: unknown) => w.svc.api('POST', '/v1/compose', body);
const requestsOf = (firstName: string) => w.openai.state.requests.filter((q) => promptData(q.user).lead?.firstName === firstName);

const SOFTWARE = {
  companyName: 'Ledgerly',
  offer: 'Ledgerly is accounting software for mid-sized manufacturers: invoicing, stock valuation and month-end close in one place.',
  whyCustomersBuy: 'Month-end close in two days instead of ten.',
  tone: 'plain and friendly',
  avoidPhrases: ['synergy', 'I hope this email finds you well'],
  signature: 'Cheers,\nSam from Ledgerly',
};

test('a draft rejected twice records its reason on the lead, gives its claim back, and the daily run does not compose it again', async () => {
  // first in this file: the claim takes the lowest new lead, this one
  const [id] = await importLeads(w.svc, [{ email: 'rex@forrester-oil.com', firstName: 'Rex', industry: 'Lubricants' }]);
  const batch = await w.svc.api('POST', '/v1/batches/claim', { size: 1, idempotencyKey: 'reject-day-1' });
  expect(batch.body.leads.map((l: { id: string }) => l.id)).toEqual([id]);
  const usedBefore = (await w.svc.api('GET', '/v1/stats')).body.used;

  w.openai.setFaults([{ fault: { kind: 'bad_draft', flaw: 'wrong_name' } }]);
  const r = await compose({ leadIds: [id] });
  w.openai.setFaults([]);
  expect(r.body.failed).toEqual([{ leadId: id, code: 'draft_rejected', detail: expect.stringMatching(/first name "Rex"/) }]);
  expect(requestsOf('Rex')).toHaveLength(2);

  const lead = (await w.svc.api('GET', `/v1/leads/${id}`)).body;
  expect(lead.status).toBe('skipped');
  expect(lead.statusReason).toMatch(/^draft_rejected: the greeting "Hi Alexandra,"/);
  const stats = (await w.svc.api('GET', '/v1/stats')).body;
  expect(stats.used).toBe(usedBefore - 1);
  expect(stats.compose).toMatchObject({ rejected: 1, requests: 2 });
  expect(stats.compose.promptTokens).toBeGreaterThan(0);

  // the next day's claim passes it by: it is not composed again on every run
  const next = await w.svc.api('POST', '/v1/batches/claim', { size: 1, idempotencyKey: 'reject-day-2' });
  expect(next.body.leads).toEqual([]);

  // an operator who fixed the voice composes it explicitly: it gets a draft and is back in line
  const again = await compose({ leadIds: [id] });
  expect(again.body.emails[0]).toMatchObject({ leadId: id, generated: true });
  const back = (await w.svc.api('GET', `/v1/leads/${id}`)).body;
  expect(back.status).toBe('new');
  expect(back.statusReason ?? null).toBeNull();
});

test("the sender's company and voice are in the system prompt, and no business identity comes from the code", async () => {
  const put = await w.svc.api('PUT', '/v1/senders/default/profile', SOFTWARE);
  expect(put.status).toBe(200);
  expect(put.body.effective).toMatchObject({ ...SOFTWARE, language: 'en' });

  const [id] = await importLeads(w.svc, [{ email: 'olga@metalworks.test', firstName: 'Olga', companyName: 'Metalworks', industry: 'Hospitality' }]);
  const r = await compose({ leadIds: [id] });
  expect(r.body.failed).toEqual([]);
  const email = r.body.emails[0];
  expect(email.text).toMatch(/^Hi Olga,/);
  expect(email.text).toContain('Cheers,\nSam from Ledgerly');
  expect(email.text).toContain('accounting software'); // the fake pitches what the system prompt says we sell

  const [asked] = requestsOf('Olga');
  expect(asked!.system).toContain('Name: Ledgerly');
  expect(asked!.system).toContain(`What we sell: ${SOFTWARE.offer}`);
  expect(asked!.system).toContain('Why customers buy: Month-end close in two days instead of ten.');
  expect(asked!.system).toContain('Tone: plain and friendly');
  expect(asked!.system).toContain('Never use: "synergy", "I hope this email finds you well"');
  for (const q of w.openai.state.requests) {
    expect(`${q.system}\n${q.user}`.toLowerCase()).not.toContain('chemical supplier');
  }
});

test('a sender inherits the default profile field by field and overrides what it sets', async () => {
  await w.svc.api('PUT', '/v1/senders/emea', { fromName: 'Lena Berg', postalAddress: 'Hafenstr. 2, Hamburg' });
  const own = await w.svc.api('PUT', '/v1/senders/emea/profile', { tone: 'formal', signature: null });
  expect(own.body.profile).toMatchObject({ tone: 'formal', companyName: null });
  expect(own.body.effective).toMatchObject({ companyName: 'Ledgerly', tone: 'formal', signature: 'Cheers,\nSam from Ledgerly' });

  const cleared = await w.svc.api('PUT', '/v1/senders/emea/profile', { signature: 'Lena Berg\nLedgerly EMEA', avoidPhrases: [] });
  expect(cleared.body.effective).toMatchObject({ signature: 'Lena Berg\nLedgerly EMEA', avoidPhrases: [] });
  expect((await w.svc.api('GET', '/v1/senders/default/profile')).body.effective.avoidPhrases).toEqual(SOFTWARE.avoidPhrases);
});

test("a German lead of a sender set to the recipient's language gets a German draft and footer; an American one English", async () => {
  // no signature anywhere: the language's sign-off and the sender's name close the email
  await w.svc.api('PUT', '/v1/senders/default/profile', { signature: null });
  await w.svc.api('PUT', '/v1/senders/emea/profile', { language: 'recipient', signature: null });
  const [anna, bob, claire] = await importLeads(w.svc, [
    { email: 'anna@stahlbau.test', firstName: 'Anna', companyName: 'Stahlbau Nord', industry: 'Lubricants', country: 'DE' },
    { email: 'bob@ohio-oil.test', firstName: 'Bob', companyName: 'Ohio Oil', industry: 'Lubricants', country: 'US', state: 'Ohio' },
    { email: 'claire@geneve.test', firstName: 'Claire', companyName: 'Lubrex', industry: 'Lubricants', country: 'CH', city: 'Genève' },
  ]);
  const r = await compose({ leadIds: [anna, bob, claire], sender: 'emea' });
  expect(r.body.failed).toEqual([]);
  const [de, en, fr] = r.body.emails;

  expect(requestsOf('Anna')[0]!.system).toContain('Write the subject and the body in German');
  expect(de).toMatchObject({ leadId: anna, language: 'de', source: 'catalog', product: 'Lubricant additives' });
  expect(de.subject).toBe('Lubricant additives für Stahlbau Nord');
  expect(de.text).toMatch(/^Hallo Anna,\n\nIch arbeite mit einigen Unternehmen/);
  expect(de.text).toContain('Viele Grüße\nLena Berg');
  expect(de.text).toMatch(/Kein Interesse\? Abmelden: https:\/\/corofy\.test\/unsubscribe\/\S+/);
  expect(de.html).toContain('Kein Interesse? <a href="https://corofy.test/unsubscribe/');

  expect(en).toMatchObject({ leadId: bob, language: 'en' });
  expect(en.text).toMatch(/^Hi Bob,/);
  expect(en.text).toContain('Best regards,\nLena Berg');
  expect(en.text).toContain('Not interested? Unsubscribe:');

  // Switzerland by region: Geneva writes French
  expect(fr).toMatchObject({ leadId: claire, language: 'fr' });
  expect(fr.text).toMatch(/^Bonjour Claire,/);
  expect(fr.text).toContain('Pas intéressé ? Se désinscrire:');
});

test('a company page goes to the model once: the other leads of the domain, in the same call or later, get its short profile', async () => {
  const ids = await importLeads(w.svc, [
    { email: 'ann@acme-lubes.example', firstName: 'Ann', companyName: 'Acme Lubes', companyDomain: 'acme-lubes.example' },
    { email: 'ben@acme-lubes.example', firstName: 'Ben', companyName: 'Acme Lubes', companyDomain: 'acme-lubes.example' },
    { email: 'cat@acme-lubes.example', firstName: 'Cat', companyName: 'Acme Lubes', website: 'https://www.acme-lubes.example/' },
  ]);
  const r = await compose({ leadIds: ids });
  expect(r.body.failed).toEqual([]);
  expect(r.body.emails.map((e: { source: string; product: string }) => [e.source, e.product])).toEqual([
    ['website', 'Lubricant additives'],
    ['website', 'Lubricant additives'],
    ['website', 'Lubricant additives'],
  ]);
  const asked = ['Ann', 'Ben', 'Cat'].map((n) => promptData(requestsOf(n)[0]!.user));
  const withPage = asked.filter((d) => d.website.content !== undefined);
  expect(withPage).toHaveLength(1);
  expect(withPage[0].website.content).toContain('hydraulic fluid');
  expect(withPage[0].catalog.length).toBeGreaterThan(1);
  for (const d of asked.filter((x) => x.website.content === undefined)) {
    expect(JSON.stringify(d)).not.toContain('around the clock');
    expect(d.website.summary).toMatch(/^Acme Lubes: Acme Lubes blends industrial greases/);
    expect(d.catalog).toBeUndefined();
    expect(d.product).toMatchObject({ id: 'lubricant-additives' });
  }
  // and the later lead cost far fewer tokens than the first
  const tokens = r.body.emails.map((e: { tokens: { total: number } }) => e.tokens.total).sort((a: number, b: number) => a - b);
  expect(tokens[0] * 1.5).toBeLessThan(tokens[2]);
});

test('every draft records its tokens and model; stats add them up per day', async () => {
  const before = (await w.svc.api('GET', '/v1/stats')).body.compose;
  const [id] = await importLeads(w.svc, [{ email: 'tia@forrester-oil.com', firstName: 'Tia', industry: 'Lubricants' }]);
  const r = await compose({ leadIds: [id] });
  const [q] = requestsOf('Tia');
  expect(r.body.emails[0]).toMatchObject({
    model: 'gpt-4o-mini',
    tokens: { prompt: q!.promptTokens, completion: q!.completionTokens, total: q!.promptTokens + q!.completionTokens },
  });
  // the stored draft answers with the same numbers
  const stored = await compose({ leadIds: [id] });
  expect(stored.body.emails[0]).toMatchObject({ generated: false, tokens: r.body.emails[0].tokens, language: 'en' });

  const after = (await w.svc.api('GET', '/v1/stats')).body.compose;
  expect(after.promptTokens - before.promptTokens).toBe(q!.promptTokens);
  expect(after.completionTokens - before.completionTokens).toBe(q!.completionTokens);
  expect(after.drafts - before.drafts).toBe(1);
  expect(after.models).toEqual(['gpt-4o-mini']);
});

test('preview returns the draft, its source, product and tokens, and stores nothing and claims nothing', async () => {
  const [id] = await importLeads(w.svc, [{ email: 'uwe@schmierstoff.test', firstName: 'Uwe', companyName: 'Schmierstoff AG', industry: 'Lubricants', country: 'AT' }]);
  await sql(w.svc, `update leads set status = 'claimed' where id = ${Number(id)}`);
  const statsBefore = (await w.svc.api('GET', '/v1/stats?sender=emea')).body.compose;

  const byId = await w.svc.api('POST', '/v1/compose/preview', { sender: 'emea', leadId: id });
  expect(byId.status).toBe(200);
  expect(byId.body).toMatchObject({ leadId: id, source: 'catalog', product: 'Lubricant additives', language: 'de', model: 'gpt-4o-mini', requests: 1 });
  expect(byId.body.text).toMatch(/^Hallo Uwe,/);
  expect(byId.body.text).toContain('https://corofy.test/unsubscribe/preview');
  const [q] = requestsOf('Uwe');
  expect(byId.body.tokens).toEqual({ prompt: q!.promptTokens, completion: q!.completionTokens, total: q!.promptTokens + q!.completionTokens });

  const inline = await w.svc.api('POST', '/v1/compose/preview', {
    lead: { firstName: 'Marie', companyName: 'Acme Lubes', companyDomain: 'acme-lubes.example', country: 'France' },
  });
  expect(inline.status).toBe(200);
  expect(inline.body).toMatchObject({ leadId: null, source: 'website', language: 'en', website: { outcome: 'cached' } });

  // nothing stored: no draft, the lead still claimed, no usage counted
  expect((await w.svc.api('GET', `/v1/leads/${id}`)).body.status).toBe('claimed');
  const composed = await compose({ leadIds: [id], sender: 'emea' });
  expect(composed.body.emails[0]).toMatchObject({ generated: true });
  expect((await w.svc.api('GET', '/v1/stats?sender=emea')).body.compose.drafts).toBe(statsBefore.drafts + 1);
});
