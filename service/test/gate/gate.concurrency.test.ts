import { startTestService, type TestService } from '../support/test-service';
import { compose, sql } from './gate-fixture';
import { importLeadRecords } from '../support/leads';
import { stopService } from '../support/sends-fixture';

// Several requests at once, as double clicks, parallel n8n executions or several
// replicas produce them: every lead gets at most one send, nothing is handed out
// twice, claims and gates interleave without deadlock, and the quota ledger
// always equals what the rows say.

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
  // open around the clock, so real-clock gates hand leads out now
  await svc.api('PUT', '/v1/senders/busy', {
    dailyQuota: 1000,
    window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' },
    skipHolidays: false,
  });
});
afterAll(() => stopService(svc));

async function importLeads(n: number, prefix: string): Promise<string[]> {
  const zones = ['UTC', 'Europe/London', 'Africa/Abidjan', 'Atlantic/Reykjavik'];
  const leads = Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com`, timezone: zones[i % zones.length] }));
  return importLeadRecords(svc, leads);
}

async function ledgerMatchesRows(): Promise<void> {
  const q = sql(svc);
  const ledger = await q(
    `select sender_id, to_char(day, 'YYYY-MM-DD') as day, claimed, scheduled, sent from sender_days
      where claimed + scheduled + sent > 0 order by 1, 2`,
  );
  const rows = await q(`
    select sender_id, to_char(day, 'YYYY-MM-DD') as day, sum(c)::int as claimed, sum(sc)::int as scheduled, sum(se)::int as sent from (
      select b.sender_id, b.day, 1 as c, 0 as sc, 0 as se from leads l join batches b on b.id = l.batch_id
       where l.status in ('claimed', 'composed')
      union all
      select sender_id, day, 0, case when status in ('scheduled', 'sending', 'failed') then 1 else 0 end,
             case when status in ('sent', 'needs_review') then 1 else 0 end
        from sends) t
    group by 1, 2 having sum(c) + sum(sc) + sum(se) > 0 order by 1, 2`);
  expect(ledger).toEqual(rows);
}

test('ten identical gate requests at once: each lead gets one send, handed out once', async () => {
  const ids = await importLeads(60, 'double');
  const claim = await svc.api('POST', '/v1/batches/claim', { sender: 'busy', size: 60 });
  expect(claim.body.leads.map((l: { id: string }) => l.id)).toEqual(ids);
  await compose(svc, ids);

  const answers = await Promise.all(Array.from({ length: 10 }, () => svc.api('POST', '/v1/gate', { leadIds: ids, sender: 'busy' })));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));

  const handedOut = answers.flatMap((a) => a.body.sendNow.map((s: { leadId: string }) => s.leadId));
  const decided = answers.flatMap((a) => [...a.body.sendNow, ...a.body.scheduled].map((s: { leadId: string }) => s.leadId));
  expect(new Set(handedOut).size).toBe(handedOut.length); // no lead handed out twice
  expect([...decided].sort()).toEqual([...ids].sort()); // each lead decided exactly once
  for (const a of answers) {
    for (const s of a.body.skipped) expect(s.code).toBe('lead_busy'); // never a wrong answer, at worst "try again"
  }
  expect(await sql(svc)('select count(*)::int as n, count(distinct lead_id)::int as leads from sends where lead_id = any($1::bigint[])', [ids])).toEqual([
    { n: 60, leads: 60 },
  ]);
  await ledgerMatchesRows();
});

test('claims and overlapping gates interleaved: no deadlock, no duplicate, the ledger stays exact', async () => {
  const first = await importLeads(200, 'mixed');
  const claims = await Promise.all([0, 1, 2, 3].map(() => svc.api('POST', '/v1/batches/claim', { sender: 'busy', size: 50 })));
  const claimed = claims.flatMap((c) => c.body.leads.map((l: { id: string }) => l.id));
  expect([...claimed].sort()).toEqual([...first].sort());
  await compose(svc, claimed);
  await importLeads(100, 'later'); // new leads for the claims that run during the gates

  const gates = Array.from({ length: 8 }, (_, i) =>
    svc.api('POST', '/v1/gate', { leadIds: first.slice(i * 25, i * 25 + 50), sender: 'busy' }),
  );
  const moreClaims = Array.from({ length: 4 }, () => svc.api('POST', '/v1/batches/claim', { sender: 'busy', size: 25 }));
  const answers = await Promise.all([...gates, ...moreClaims]);
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));

  const decided = answers.slice(0, 8).flatMap((a) => [...a.body.sendNow, ...a.body.scheduled].map((s: { leadId: string }) => s.leadId));
  expect(new Set(decided).size).toBe(decided.length);
  const busy = answers.slice(0, 8).flatMap((a) => a.body.skipped.filter((s: { code: string }) => s.code === 'lead_busy'));
  // whatever was busy gates fine on a second try
  if (busy.length > 0) {
    const retry = await svc.api('POST', '/v1/gate', { leadIds: busy.map((s: { leadId: string }) => s.leadId), sender: 'busy' });
    expect(retry.body.skipped).toEqual([]);
  }
  expect(await sql(svc)('select count(*)::int as n from sends where lead_id = any($1::bigint[])', [first])).toEqual([{ n: 200 }]);
  await ledgerMatchesRows();
});
