import { matchedIds, startApolloKit, type ApolloKit } from './apollo-kit';

let kit: ApolloKit;
beforeAll(async () => {
  kit = await startApolloKit({ people: 2000, revealFailRate: 0 });
});
afterAll(async () => kit?.stop());

test('concurrent searches with the same filters never pay twice for one person', async () => {
  const { svc, fake } = kit;
  const filters = { personLocations: ['United States'] };
  const results = await Promise.all([1, 2, 3, 4].map(() => svc.api('POST', '/v1/searches', { leadsWanted: 25, filters })));
  for (const r of results) {
    expect(r.status).toBe(201);
    expect(r.body.leadsAdded).toBe(25);
    expect(r.body.creditsUsed).toBe(25);
  }
  const matched = matchedIds(fake);
  expect(new Set(matched).size).toBe(matched.length);
  expect(fake.state.creditsUsed).toBe(100);
  const ids = results.flatMap((r) => r.body.leads.map((l: { id: string }) => l.id));
  expect(new Set(ids).size).toBe(100);
});
