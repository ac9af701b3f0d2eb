import { matchedIds, searchRequests, startApolloKit, type ApolloKit } from './apollo-kit';

let kit: ApolloKit;
beforeAll(async () => {
  kit = await startApolloKit({ people: 3000 });
});
afterAll(async () => kit?.stop());

test('10 leads wanted: exactly 10 credits spent, 10 leads added in Apollo order', async () => {
  const { svc, fake } = kit;
  const before = fake.state.creditsUsed;
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 10 });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ leadsWanted: 10, leadsAdded: 10, creditsUsed: 10, exhausted: false, status: 'completed' });
  expect(fake.state.creditsUsed - before).toBe(10);
  expect(searchRequests(fake)[0]!.body).toMatchObject({ page: 1, per_page: 10 });

  // Apollo's order: the first people with a revealable email, as the search listed them.
  const expected = fake.state.people.filter((p) => p.email && !p.revealFails).slice(0, 10);
  expect(res.body.leads.map((l: { apolloId: string }) => l.apolloId)).toEqual(expected.map((p) => p.id));
  expect(res.body.leads.map((l: { email: string }) => l.email)).toEqual(expected.map((p) => p.email));
  const ids = res.body.leads.map((l: { id: string }) => Number(l.id));
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  // People without an email were never sent to the paid match.
  const noEmail = new Set(fake.state.people.filter((p) => !p.email).map((p) => p.id));
  expect(matchedIds(fake).filter((id) => noEmail.has(id))).toEqual([]);

  const lead = await svc.api('GET', `/v1/leads/${res.body.leads[0].id}`);
  expect(lead.body).toMatchObject({ email: expected[0]!.email, companyDomain: expected[0]!.organization.primary_domain, status: 'new' });
  // a person whose country Apollo gave has a zone from the start, as an imported lead does
  const located = res.body.leads.find((l: { country?: string }) => l.country);
  expect(located).toBeDefined();
  expect((await svc.api('GET', `/v1/leads/${located.id}`)).body).toMatchObject({
    timezone: expect.stringMatching(/^[A-Z][A-Za-z_]+\/[A-Za-z_/-]+$|^UTC$/),
    timezoneSource: expect.stringMatching(/^(state|city|country|country_default)$/),
  });

  const record = await svc.api('GET', `/v1/searches/${res.body.searchId}`);
  expect(record.body).toMatchObject({ leadsWanted: 10, leadsAdded: 10, creditsUsed: 10, status: 'completed', pagesFetched: 1 });
});

test('250 wanted with 30 already known: 250 added, credits only for the people matched, none known re-bought', async () => {
  const { svc, fake } = kit;
  const filters = { personLocations: ['United States'] };
  const first = await svc.api('POST', '/v1/searches', { leadsWanted: 30, filters });
  expect(first.body).toMatchObject({ leadsAdded: 30, creditsUsed: 30 });
  const known = new Set(first.body.leads.map((l: { apolloId: string }) => l.apolloId));

  const from = fake.state.requests.length;
  const before = fake.state.creditsUsed;
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 250, filters });
  expect(res.status).toBe(201);
  expect(res.body.leadsAdded).toBe(250);
  expect(res.body.leads).toHaveLength(250);
  expect(res.body.duplicatesSkipped).toBeGreaterThanOrEqual(30);

  const charged = fake.state.creditsUsed - before;
  expect(res.body.creditsUsed).toBe(charged);
  expect(charged).toBe(250);
  const matched = matchedIds(fake, from);
  expect(matched).toHaveLength(res.body.matchesRequested);
  expect(matched.filter((id) => known.has(id))).toEqual([]);
  expect(new Set(matched).size).toBe(matched.length);
  // Matched people that revealed no email cost nothing and were not counted as added.
  const revealFails = matched.filter((id) => fake.state.people.find((p) => p.id === id)!.revealFails).length;
  expect(res.body.matchesRequested).toBe(250 + revealFails);

  // Pages: min(still needed, 100) and never a person skipped or seen twice.
  const searches = searchRequests(fake, from);
  expect(searches[0]!.body.per_page).toBe(100);
  expect(res.body.pagesFetched).toBe(searches.length);
  expect(searches.every((s) => s.body.per_page <= 100 && s.body.person_locations[0] === 'United States')).toBe(true);
});

test('what only the match reveals (a known email, a suppressed address or domain) is dropped and reported', async () => {
  const { svc, fake } = kit;
  const filters = { personLocations: ['India'] };
  const candidates = fake.state.people.filter(
    (p) => p.email && !p.revealFails && [p.city, p.state, p.country].join(', ').toLowerCase().includes('india'),
  );
  const [imported, suppressedAddress, suppressedDomain] = [candidates[1]!, candidates[2]!, candidates[3]!];
  const imp = await svc.api('POST', '/v1/leads/import', { leads: [{ email: imported.email!.toUpperCase() }] });
  expect(imp.body.imported).toBe(1);
  await svc.deps.db.call('add_suppression', { p_value: suppressedAddress.email, p_kind: 'email', p_reason: 'test' });
  await svc.deps.db.call('add_suppression', {
    p_value: suppressedDomain.organization.primary_domain,
    p_kind: 'domain',
    p_reason: 'test',
  });

  const before = fake.state.creditsUsed;
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 20, filters });
  expect(res.status).toBe(201);
  expect(res.body.leadsAdded).toBe(20);
  expect(res.body.duplicatesSkipped).toBeGreaterThanOrEqual(1);
  expect(res.body.suppressedSkipped).toBeGreaterThanOrEqual(2);
  const emails = res.body.leads.map((l: { email: string }) => l.email);
  expect(emails).not.toContain(imported.email);
  expect(emails).not.toContain(suppressedAddress.email);
  expect(emails.filter((e: string) => e.endsWith(`@${suppressedDomain.organization.primary_domain}`))).toEqual([]);
  // The loss is visible: paid for 20 + what was dropped after the match.
  expect(res.body.creditsUsed).toBe(fake.state.creditsUsed - before);
  expect(res.body.creditsUsed).toBeGreaterThanOrEqual(23);
});

test('Apollo running out of matches: exhausted, fewer leads, still a 201', async () => {
  const { svc, fake } = kit;
  const domain = fake.state.people[5]!.organization.primary_domain;
  const people = fake.state.people.filter((p) => p.organization.primary_domain === domain);
  const res = await svc.api('POST', '/v1/searches', { leadsWanted: 50, filters: { qOrganizationDomains: [`https://www.${domain}/`] } });
  expect(res.status).toBe(201);
  expect(res.body.exhausted).toBe(true);
  expect(res.body.totalEntries).toBe(people.length);
  expect(res.body.leadsAdded).toBeLessThan(50);
  expect(res.body.leadsAdded + res.body.duplicatesSkipped + res.body.noEmailSkipped + res.body.suppressedSkipped).toBe(people.length);
});

test('searches are listed newest first and stats count the credits', async () => {
  const { svc } = kit;
  const list = await svc.api('GET', '/v1/searches?limit=2');
  expect(list.status).toBe(200);
  expect(list.body.searches).toHaveLength(2);
  expect(list.body.searches[0].createdAt >= list.body.searches[1].createdAt).toBe(true);
  const all = await svc.api('GET', '/v1/searches');
  const credits = all.body.searches.reduce((n: number, s: { creditsUsed: number }) => n + s.creditsUsed, 0);
  const stats = await svc.api('GET', '/v1/stats');
  expect(stats.body.apolloCreditsUsed).toBe(credits);
});

test('the searches are in the OpenAPI document', async () => {
  const doc = await kit.svc.api('GET', '/openapi.json');
  expect(doc.status).toBe(200);
  expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/searches', '/v1/searches/{id}']));
  expect(doc.body.paths['/v1/searches'].post.responses).toHaveProperty('402');
  expect(doc.body.components.schemas.ApolloSearchRequest.properties.leadsWanted.maximum).toBe(10_000);
});
