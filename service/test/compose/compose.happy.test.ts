import { INSTRUCTIONS_CANARY } from '../../src/compose/prompt';
import { importLeads, promptData, sql, startComposeWorld, type ComposeWorld } from './compose-fixture';

let w: ComposeWorld;
beforeAll(async () => {
  w = await startComposeWorld({
    firecrawl: {
      pages: {
        'acme-lubes.example': {
          title: 'Acme Lubes - industrial greases',
          markdown: '# Acme Lubes\n\nWe blend industrial greases and hydraulic fluid for mining and marine customers.',
        },
      },
    },
  });
});
afterAll(async () => w?.stop());

const compose = (body: unknown) => w.svc.api('POST', '/v1/compose', body);

test('a lubricant company is pitched the catalog product for lubricants, signed by the sender, with the unsubscribe footer', async () => {
  const [id] = await importLeads(w.svc, [
    { email: 'kevin@forrester-oil.com', firstName: 'Kevin', companyName: 'Forrester Oil', industry: 'Lubricants' },
  ]);
  const before = w.openai.state.completions;
  const r = await compose({ leadIds: [id] });
  expect(r.status).toBe(200);
  expect(r.body.failed).toEqual([]);
  const [email] = r.body.emails;
  expect(email).toMatchObject({ leadId: id, source: 'catalog', product: 'Lubricant additives', model: 'gpt-4o-mini', generated: true });
  expect(email.text).toMatch(/^Hi Kevin,/);
  expect(email.text).toContain('Lubricant additives');
  expect(email.text).toContain('Best regards,\nJane Seller');
  expect(email.text).toMatch(/https:\/\/corofy\.test\/unsubscribe\/\S+/);
  expect(email.text).toContain('1 Harbour Road, Rotterdam, NL');
  expect(email.html).toContain('<p>Hi Kevin,</p>');
  expect(email.html).toContain('href="https://corofy.test/unsubscribe/');
  expect(email.text).not.toMatch(/\[Your Name\]|\{\{/);
  expect(w.openai.state.completions).toBe(before + 1);
  expect(w.firecrawl.state.scrapes).toHaveLength(0);
});

test('an unknown industry is read from the company website (scraped once per domain, then cached) and the AI picks the product', async () => {
  const ids = await importLeads(w.svc, [
    { email: 'ann@acme-lubes.example', firstName: 'Ann', companyName: 'Acme Lubes', industry: 'Mining & Metals', companyDomain: 'acme-lubes.example' },
    { email: 'bob@acme-lubes.example', firstName: 'Bob', companyName: 'Acme Lubes', website: 'https://www.acme-lubes.example/about' },
  ]);
  const r = await compose({ leadIds: ids });
  expect(r.status).toBe(200);
  expect(r.body.failed).toEqual([]);
  for (const [i, name] of [[0, 'Ann'], [1, 'Bob']] as const) {
    expect(r.body.emails[i]).toMatchObject({ leadId: ids[i], source: 'website', product: 'Lubricant additives' });
    expect(r.body.emails[i].text).toMatch(new RegExp(`^Hi ${name},`));
  }
  expect(w.firecrawl.state.scrapes).toHaveLength(1);
  expect(w.firecrawl.state.scrapes[0]!.body).toMatchObject({ formats: ['markdown'], onlyMainContent: true });

  // A later lead of the same domain hits the cache: no second scrape.
  const [third] = await importLeads(w.svc, [{ email: 'cy@acme-lubes.example', firstName: 'Cy', companyDomain: 'acme-lubes.example' }]);
  const again = await compose({ leadIds: [third] });
  expect(again.body.emails[0]).toMatchObject({ source: 'website', product: 'Lubricant additives', website: { outcome: 'cached' } });
  expect(w.firecrawl.state.scrapes).toHaveLength(1);

  // The page went to the model as quoted data in the user message, never into the instructions.
  const last = w.openai.state.requests.at(-1)!;
  const asked = w.openai.state.requests.filter((q) => ['Ann', 'Bob', 'Cy'].includes(promptData(q.user).lead?.firstName));
  const withPage = asked.filter((q) => promptData(q.user).website.content !== undefined);
  expect(withPage).toHaveLength(1);
  expect(withPage[0]!.system).toContain(INSTRUCTIONS_CANARY);
  expect(withPage[0]!.system).not.toContain('hydraulic fluid');
  expect(promptData(withPage[0]!.user).website.content).toContain('hydraulic fluid');
  // Later leads of the domain get the short company profile the first draft wrote, never the page.
  expect(promptData(last.user).website.content).toBeUndefined();
  expect(promptData(last.user).website.summary).toContain('hydraulic fluid');
});

test('with nothing to go on the pitch is generic', async () => {
  const [id] = await importLeads(w.svc, [{ email: 'dana@nowhere.test', firstName: 'Dana', companyName: 'Nowhere Ltd', industry: 'Hospitality' }]);
  const r = await compose({ leadIds: [id] });
  expect(r.body.emails[0]).toMatchObject({ source: 'generic', product: null });
  expect(r.body.emails[0].text).toMatch(/^Hi Dana,/);
  expect(r.body.emails[0].text).not.toContain(INSTRUCTIONS_CANARY);
});

test('composing again returns the stored draft; regenerate writes a new one; a claimed lead becomes composed, others keep their status', async () => {
  const [claimed, fresh] = await importLeads(w.svc, [
    { email: 'eve@forrester-oil.com', firstName: 'Eve', industry: 'Lubricants' },
    { email: 'finn@forrester-oil.com', firstName: 'Finn', industry: 'Lubricants' },
  ]);
  await sql(w.svc, `update leads set status = 'claimed' where id = ${Number(claimed)}`);
  const first = await compose({ leadIds: [claimed, fresh] });
  expect(first.body.emails.map((e: { leadId: string }) => e.leadId)).toEqual([claimed, fresh]);
  expect((await w.svc.api('GET', `/v1/leads/${claimed}`)).body.status).toBe('composed');
  expect((await w.svc.api('GET', `/v1/leads/${fresh}`)).body.status).toBe('new');

  const requests = w.openai.state.requests.length;
  const second = await compose({ leadIds: [claimed, fresh] });
  expect(w.openai.state.requests.length).toBe(requests);
  expect(second.body.emails.map((e: { generated: boolean }) => e.generated)).toEqual([false, false]);
  expect(second.body.emails[0].text).toBe(first.body.emails[0].text);

  const regenerated = await compose({ leadIds: [claimed], regenerate: true });
  expect(regenerated.body.emails[0]).toMatchObject({ leadId: claimed, generated: true, source: 'catalog' });
  expect(w.openai.state.requests.length).toBe(requests + 1);
});

test('leads that are suppressed, replied, bounced, unsubscribed or sent are refused with a code and cost no AI call', async () => {
  const ids = await importLeads(w.svc, [
    { email: 'sup@blocked.test', firstName: 'Sue', industry: 'Lubricants' },
    { email: 'rep@ok.test', firstName: 'Ray', industry: 'Lubricants' },
    { email: 'bou@ok.test', firstName: 'Bea', industry: 'Lubricants' },
    { email: 'uns@ok.test', firstName: 'Una', industry: 'Lubricants' },
    { email: 'snt@ok.test', firstName: 'Sam', industry: 'Lubricants' },
  ]);
  await sql(
    w.svc,
    `insert into suppressions (value, kind, reason) values ('blocked.test', 'domain', 'test');
     update leads set status = 'replied' where id = ${Number(ids[1])};
     update leads set status = 'bounced' where id = ${Number(ids[2])};
     update leads set status = 'unsubscribed' where id = ${Number(ids[3])};
     update leads set status = 'sent' where id = ${Number(ids[4])};`,
  );
  const requests = w.openai.state.requests.length;
  const r = await compose({ leadIds: [...ids, '999999'] });
  expect(r.status).toBe(200);
  expect(r.body.emails).toEqual([]);
  expect(r.body.failed.map((f: { code: string }) => f.code)).toEqual([
    'lead_suppressed',
    'lead_replied',
    'lead_bounced',
    'lead_unsubscribed',
    'lead_sent',
    'lead_not_found',
  ]);
  expect(w.openai.state.requests.length).toBe(requests);
});

test('the catalog can be edited and composing follows it', async () => {
  const cat = await w.svc.api('PUT', '/v1/catalog', {
    products: [{ id: 'hospitality-cleaners', industries: ['Hospitality'], keywords: ['hotel'], product: 'Hotel laundry detergents', pitch: 'Whiter linen at lower temperatures.' }],
  });
  expect(cat.status).toBe(200);
  const [id] = await importLeads(w.svc, [{ email: 'gil@hotel.test', firstName: 'Gil', industry: 'hospitality' }]);
  const r = await compose({ leadIds: [id] });
  expect(r.body.emails[0]).toMatchObject({ source: 'catalog', product: 'Hotel laundry detergents' });
});
