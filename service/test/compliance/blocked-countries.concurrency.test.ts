// Per-sender blocked countries at claim, under 32 concurrent claims of two
// senders: no lead of a country a sender blocks is ever in its batch; every
// such lead it meets is skipped with the reason country_blocked (once); the
// other sender, which blocks nothing, still gets its quota of leads.
import { rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
const COUNTRIES = ['DE', 'US', 'FR', 'GB', 'CA'];
let countryOf: Map<string, string>;
beforeAll(async () => {
  svc = await startTestService();
  const leads = Array.from({ length: 600 }, (_, i) => ({ email: `p${i}@blocked-${i % 7}.example`, country: COUNTRIES[i % COUNTRIES.length] }));
  const r = await svc.api('POST', '/v1/leads/import', { leads });
  countryOf = new Map(r.body.leadIds.map((id: string, i: number) => [id, leads[i]!.country]));
}, 240_000);
afterAll(() => stopService(svc));

test('32 concurrent claims: a sender never gets a lead of a country it blocks; each one it meets is skipped as country_blocked', async () => {
  const eu = await svc.api('PUT', '/v1/senders/no-eu', { dailyQuota: 150, blockedCountries: ['de', 'France'] });
  expect(eu.status).toBe(200);
  expect(eu.body.blockedCountries).toEqual(['DE', 'FR']);
  expect((await svc.api('PUT', '/v1/senders/any', { dailyQuota: 100 })).body.blockedCountries).toEqual([]);
  expect((await svc.api('PUT', '/v1/senders/any', { blockedCountries: ['Atlantis'] })).status).toBe(400);

  const calls = Array.from({ length: 32 }, (_, i) => ({ sender: i % 2 === 0 ? 'no-eu' : 'any', size: 5 + (i % 4) * 5 }));
  const answers = await Promise.all(calls.map((body) => svc.api('POST', '/v1/batches/claim', body)));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));

  const claimedBy = new Map<string, string>();
  const skipped = new Map<string, string>();
  for (const a of answers) {
    for (const l of a.body.leads as { id: string }[]) {
      expect(claimedBy.has(l.id)).toBe(false); // never in two batches
      claimedBy.set(l.id, a.body.sender);
    }
    for (const s of a.body.skipped as { leadId: string; reason: string }[]) {
      expect(skipped.has(s.leadId)).toBe(false);
      skipped.set(s.leadId, `${a.body.sender}:${s.reason}`);
    }
  }
  const noEu = [...claimedBy].filter(([, s]) => s === 'no-eu').map(([id]) => countryOf.get(id));
  expect(noEu.length).toBeGreaterThan(0);
  expect(noEu.filter((c) => c === 'DE' || c === 'FR')).toEqual([]);
  const anyCountries = new Set([...claimedBy].filter(([, s]) => s === 'any').map(([id]) => countryOf.get(id)));
  expect(anyCountries).toEqual(new Set(COUNTRIES));
  // only the blocking sender skips, only for its countries, each such lead once
  expect([...skipped.values()].every((v) => v === 'no-eu:country_blocked')).toBe(true);
  expect([...skipped.keys()].every((id) => ['DE', 'FR'].includes(countryOf.get(id)!))).toBe(true);

  // what the database says agrees: skipped leads carry the reason, none of them was claimed
  const rows = await rawSql(svc)(`select id::text, status, status_reason from leads where status = 'skipped'`);
  expect(new Map(rows.map((r: { id: string; status_reason: string }) => [r.id, r.status_reason]))).toEqual(
    new Map([...skipped.keys()].map((id) => [id, 'country_blocked'])),
  );
  const lead = await svc.api('GET', `/v1/leads/${[...skipped.keys()][0]}`);
  expect(lead.body).toEqual(expect.objectContaining({ status: 'skipped', statusReason: 'country_blocked' }));
  // the quota counts only claimed leads
  const stats = await svc.api('GET', '/v1/stats?sender=no-eu');
  expect(stats.body.claimed).toBe(noEu.length);
});
