import { importLeads, ledger, rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
let ids: string[];
beforeAll(async () => {
  svc = await startTestService();
  ids = await importLeads(svc, 1000);
});
afterAll(() => stopService(svc));

const SIZES = [1, 3, 10, 25, 40, 7, undefined];

test('50 concurrent claims with mixed sizes and shared keys: exactly 400 distinct leads, lowest first, none twice', async () => {
  const requests = Array.from({ length: 50 }, (_, i) => ({
    size: SIZES[i % SIZES.length],
    idempotencyKey: i % 6 === 0 ? 'shared-a' : i % 10 === 3 ? 'shared-b' : i % 4 === 1 ? undefined : `key-${i}`,
  }));
  const answers = await Promise.all(requests.map((body) => svc.api('POST', '/v1/batches/claim', body)));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));

  const batches = new Map<string, { leads: { id: string }[] }>();
  for (const a of answers) {
    const seen = batches.get(a.body.batchId);
    if (seen) expect(a.body.leads.map((l: { id: string }) => l.id)).toEqual(seen.leads.map((l) => l.id));
    else batches.set(a.body.batchId, a.body);
  }
  // the same key is the same batch
  for (const key of ['shared-a', 'shared-b']) {
    const withKey = answers.filter((_, i) => requests[i]!.idempotencyKey === key);
    expect(new Set(withKey.map((a) => a.body.batchId)).size).toBe(1);
    expect(withKey.filter((a) => a.body.replayed === false)).toHaveLength(1);
  }

  const claimed = [...batches.values()].flatMap((b) => b.leads.map((l) => l.id));
  expect(claimed).toHaveLength(400); // no lead in two batches, quota exact
  expect(new Set(claimed).size).toBe(400);
  expect([...claimed].sort((a, b) => Number(a) - Number(b))).toEqual(ids.slice(0, 400)); // lowest sequence first
  for (const b of batches.values()) {
    const n = b.leads.map((l) => Number(l.id));
    expect(n).toEqual([...n].sort((x, y) => x - y));
  }

  const stats = await svc.api('GET', '/v1/stats');
  expect(stats.body).toMatchObject({ quota: 400, claimed: 400, remaining: 0 });
  const more = await svc.api('POST', '/v1/batches/claim', { size: 5 });
  expect(more.body).toMatchObject({ leads: [], remainingToday: 0, claimedToday: 400 });
  const statuses = await rawSql(svc)("select status, count(*)::int as n from leads group by 1 order by 1");
  expect(statuses).toEqual([
    { status: 'claimed', n: 400 },
    { status: 'new', n: 600 },
  ]);

  // the next sender-day continues at 401
  const tomorrow = new Date(Date.now() + 86_400_000);
  const next = await svc.deps.db.call<{ leads: { id: string }[]; day: string }>('claim_batch', {
    p_sender: 'default',
    p_size: 1000,
    p_now: tomorrow,
  });
  expect(next.leads.map((l) => l.id)).toEqual(ids.slice(400, 800));
  expect(next.day).toBe(tomorrow.toISOString().slice(0, 10));
  const l = await ledger(svc);
  expect(Object.values(l).map((d) => d.claimed)).toEqual([400, 400]);
});
