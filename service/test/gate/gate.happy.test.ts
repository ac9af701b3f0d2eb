import { startTestService, type TestService } from '../support/test-service';
import { composedLeads, gateAt, sql } from './gate-fixture';
import { stopService } from '../support/sends-fixture';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

const at = (iso: string) => new Date(iso);
const byLead = (sends: any[]) => Object.fromEntries(sends.map((s) => [s.leadId, s]));

test('each composed lead is handed out now inside its window, or scheduled at its next opening, in its own zone', async () => {
  // Wednesday 2026-12-02 15:00 UTC: 10:00 in New York, 00:00 Thursday in Tokyo, 20:45 in Kathmandu
  const [ny, tokyo, ktm] = await composedLeads(svc, [
    { country: 'US', state: 'NY' },
    { country: 'JPN' },
    { timezone: 'Asia/Kathmandu', country: 'NP' },
  ]);
  const now = at('2026-12-02T15:00:00Z');
  const r = await gateAt(svc, [ny!, tokyo!, ktm!], now);

  expect(r.skipped).toEqual([]);
  expect(r.sendNow).toHaveLength(1);
  expect(r.sendNow[0]).toMatchObject({
    leadId: ny,
    status: 'sending',
    localTime: '2026-12-02T10:00:00-05:00',
    timezone: 'America/New_York',
    timezoneSource: 'state',
    subject: `Subject for ${ny}`,
    text: `Text for ${ny}`,
    html: `<p>Html for ${ny}</p>`,
  });
  expect(Date.parse(r.sendNow[0].sendAt)).toBe(now.getTime());
  expect(r.sendNow[0].to).toMatch(/@example\.com$/);
  expect(Date.parse(r.sendNow[0].leaseExpiresAt)).toBe(now.getTime() + 600_000);
  expect(Date.parse(r.sendNow[0].windowEnd)).toBe(Date.parse('2026-12-02T22:00:00Z'));

  const scheduled = byLead(r.scheduled);
  expect(scheduled[tokyo!]).toMatchObject({
    status: 'scheduled',
    timezone: 'Asia/Tokyo',
    timezoneSource: 'country',
    localTime: '2026-12-03T09:00:00+09:00',
    day: '2026-12-03',
  });
  expect(Date.parse(scheduled[tokyo!].sendAt)).toBe(Date.parse('2026-12-03T00:00:00Z'));
  expect(scheduled[ktm!]).toMatchObject({ timezoneSource: 'lead', localTime: '2026-12-03T09:00:00+05:45' });
  expect(Date.parse(scheduled[ktm!].sendAt)).toBe(Date.parse('2026-12-03T03:15:00Z'));

  const lead = await svc.api('GET', `/v1/leads/${tokyo}`);
  expect(lead.body).toMatchObject({ status: 'scheduled', timezone: 'Asia/Tokyo', timezoneSource: 'country' });
  expect((await svc.api('GET', `/v1/leads/${ny}`)).body.status).toBe('sending');

  // Gating again is harmless: the same sends come back unchanged, nothing is handed out twice.
  const again = await gateAt(svc, [ny!, tokyo!, ktm!], at('2026-12-02T15:05:00Z'));
  expect(again.sendNow).toEqual([]);
  expect(again.scheduled).toEqual([]);
  expect(again.alreadyGated.map((s: any) => s.sendId).sort()).toEqual(
    [...r.sendNow, ...r.scheduled].map((s: any) => s.sendId).sort(),
  );
  expect(byLead(again.alreadyGated)[ny!]).toEqual(r.sendNow[0]);
});

test('public holidays of the recipient country are skipped unless the sender says otherwise', async () => {
  // Thanksgiving, Thursday 2026-11-26, 10:00 in New York
  const now = at('2026-11-26T15:00:00Z');
  const [us] = await composedLeads(svc, [{ country: 'United States', city: 'New York' }]);
  const r = await gateAt(svc, [us!], now);
  expect(r.scheduled).toHaveLength(1);
  expect(r.scheduled[0].localTime).toBe('2026-11-27T09:00:00-05:00');

  await svc.api('PUT', '/v1/senders/workaholic', { skipHolidays: false });
  const [us2] = await composedLeads(svc, [{ country: 'US', city: 'New York' }]);
  const r2 = await gateAt(svc, [us2!], now, 'workaholic');
  expect(r2.sendNow).toHaveLength(1);
  expect(r2.sendNow[0].localTime).toBe('2026-11-26T10:00:00-05:00');
});

test('a full sender-day pushes the lead to the next window that has quota room', async () => {
  await svc.api('PUT', '/v1/senders/small', { dailyQuota: 1, timezone: 'Europe/Berlin' });
  const ids = await composedLeads(svc, [{ country: 'DE' }, { country: 'Germany' }, { country: 'DEU' }]);
  // Wednesday 11:00 in Berlin
  const r = await gateAt(svc, ids, at('2026-12-02T10:00:00Z'), 'small');
  expect(r.sendNow.map((s: any) => s.leadId)).toEqual([ids[0]]);
  expect(r.scheduled.map((s: any) => [s.leadId, s.localTime, s.day])).toEqual([
    [ids[1], '2026-12-03T09:00:00+01:00', '2026-12-03'],
    [ids[2], '2026-12-04T09:00:00+01:00', '2026-12-04'],
  ]);
  const ledger = await sql(svc)(
    "select to_char(day, 'YYYY-MM-DD') as day, claimed, scheduled, sent from sender_days where sender_id = 'small' and scheduled > 0 order by day",
  );
  expect(ledger).toEqual([
    { day: '2026-12-02', claimed: 0, scheduled: 1, sent: 0 },
    { day: '2026-12-03', claimed: 0, scheduled: 1, sent: 0 },
    { day: '2026-12-04', claimed: 0, scheduled: 1, sent: 0 },
  ]);
});

test('pacing spreads one sender over the window; a send past the window end moves to the next window', async () => {
  await svc.api('PUT', '/v1/senders/paced', { minGapSeconds: 600, jitterSeconds: 0 });
  const ids = await composedLeads(svc, [{ timezone: 'Europe/London' }, { timezone: 'Europe/London' }, { timezone: 'Europe/London' }]);
  // Wednesday 16:40 in London (UTC in winter); the window closes at 17:00
  const r = await gateAt(svc, ids, at('2026-12-02T16:40:00Z'), 'paced');
  expect(r.sendNow.map((s: any) => [s.leadId, s.localTime])).toEqual([[ids[0], '2026-12-02T16:40:00+00:00']]);
  expect(r.scheduled.map((s: any) => [s.leadId, s.localTime])).toEqual([
    [ids[1], '2026-12-02T16:50:00+00:00'],
    [ids[2], '2026-12-03T09:00:00+00:00'],
  ]);
});

test('jitter makes the gaps between sends random within [gap, gap + jitter]', async () => {
  await svc.api('PUT', '/v1/senders/jittery', { minGapSeconds: 60, jitterSeconds: 120 });
  const ids = await composedLeads(svc, Array.from({ length: 8 }, () => ({ timezone: 'Asia/Kolkata' })));
  // Wednesday 10:00 in Kolkata
  const r = await gateAt(svc, ids, at('2026-12-02T04:30:00Z'), 'jittery');
  const times = [...r.sendNow, ...r.scheduled].map((s: any) => Date.parse(s.sendAt)).sort((a, b) => a - b);
  expect(times).toHaveLength(8);
  const gaps = times.slice(1).map((t, i) => (t - times[i]!) / 1000);
  for (const g of gaps) {
    expect(g).toBeGreaterThanOrEqual(60);
    expect(g).toBeLessThanOrEqual(180);
  }
  expect(new Set(gaps).size).toBeGreaterThan(1);
});

test('suppressed and not-composed leads are skipped with a reason; a suppressed lead releases its claim', async () => {
  await sql(svc)("insert into suppressions (value, kind, reason) values ('blocked.example', 'domain', 'test')");
  const [blocked] = await composedLeads(svc, [{ email: 'boss@blocked.example', country: 'FR' }]);
  const imported = await svc.api('POST', '/v1/leads/import', { leads: [{ email: 'fresh@example.org' }] });
  const fresh = imported.body.leadIds[0];
  const r = await gateAt(svc, [blocked!, fresh, '999999'], at('2026-12-02T10:00:00Z'));
  expect(r.sendNow).toEqual([]);
  expect(r.scheduled).toEqual([]);
  expect(Object.fromEntries(r.skipped.map((s: any) => [s.leadId, s.code]))).toEqual({
    [blocked!]: 'suppressed',
    [fresh]: 'not_claimed',
    '999999': 'lead_not_found',
  });
  expect((await svc.api('GET', `/v1/leads/${blocked}`)).body).toMatchObject({ status: 'skipped', statusReason: 'suppressed' });
  expect((await svc.api('GET', `/v1/leads/${fresh}`)).body.status).toBe('new');
  expect(await sql(svc)('select count(*)::int as n from sends where lead_id = any($1::bigint[])', [[blocked, fresh]])).toEqual([
    { n: 0 },
  ]);
});

test('the ledger moves a claim of day D to the send day E', async () => {
  await svc.api('PUT', '/v1/senders/claimer', { dailyQuota: 3 });
  await svc.api('POST', '/v1/leads/import', {
    leads: [1, 2, 3].map((i) => ({ email: `claimed${i}@example.net`, country: 'DE' })),
  });
  // Wednesday 21:00 in Berlin (20:00 UTC, where the earlier un-composed lead is): the claim counts
  // on 2026-12-02 (sender in UTC), the sends go out Thursday
  const now = at('2026-12-02T20:00:00Z');
  const batch = await svc.deps.db.call<any>('claim_batch', { p_sender: 'claimer', p_size: 3, p_now: now });
  const ids: string[] = batch.leads.map((l: any) => l.id);
  expect(ids).toHaveLength(3);
  await sql(svc)(
    `insert into drafts (lead_id, step, subject, text, html, source)
     select id, 1, 's', 't', 'h', 'generic' from leads where id = any($1::bigint[])`,
    [ids],
  );
  await sql(svc)(`update leads set status = 'composed' where id = any($1::bigint[])`, [ids]);

  const r = await gateAt(svc, ids, now, 'claimer');
  expect(r.scheduled.map((s: any) => s.day)).toEqual(['2026-12-03', '2026-12-03', '2026-12-03']);
  expect(
    await sql(svc)(
      "select to_char(day, 'YYYY-MM-DD') as day, claimed, scheduled from sender_days where sender_id = 'claimer' order by day",
    ),
  ).toEqual(expect.arrayContaining([
    { day: '2026-12-02', claimed: 0, scheduled: 0 },
    { day: '2026-12-03', claimed: 0, scheduled: 3 },
  ]));
});

test('POST /v1/gate uses the real clock and adds the unsubscribe headers', async () => {
  const [lead] = await composedLeads(svc, [{ country: 'IN' }]);
  const r = await svc.api('POST', '/v1/gate', { leadIds: [lead] });
  expect(r.status).toBe(200);
  const send = [...r.body.sendNow, ...r.body.scheduled][0];
  expect(send).toMatchObject({ leadId: lead, timezone: 'Asia/Kolkata', timezoneSource: 'country' });
  expect(send.localTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30$/);
  expect(send.listUnsubscribePost).toBe('List-Unsubscribe=One-Click');
  expect(send.listUnsubscribe).toMatch(/^<http.*\/unsubscribe\/.+>$/);
  // the local hour is inside Mon–Fri 09:00–17:00
  const local = send.localTime as string;
  const hour = Number(local.slice(11, 13));
  expect(hour).toBeGreaterThanOrEqual(9);
  expect(hour).toBeLessThan(17);
  if (r.body.sendNow.length === 1) expect(Math.abs(Date.parse(send.sendAt) - Date.now())).toBeLessThan(60_000);
});

test('a claim on a full day D becomes a send on the same day (E = D needs no extra room)', async () => {
  await svc.api('PUT', '/v1/senders/fullday', { dailyQuota: 2 });
  await svc.api('POST', '/v1/leads/import', {
    leads: [1, 2].map((i) => ({ email: `fullday${i}@example.net`, timezone: 'Europe/Paris' })),
  });
  // Wednesday 11:00 in Paris: open now; the day is full with the two claims
  const now = at('2026-12-02T10:00:00Z');
  const batch = await svc.deps.db.call<any>('claim_batch', { p_sender: 'fullday', p_size: 2, p_now: now });
  const ids: string[] = batch.leads.map((l: any) => l.id);
  expect(ids).toHaveLength(2);
  await sql(svc)(
    `insert into drafts (lead_id, step, subject, text, html, source)
     select id, 1, 's', 't', 'h', 'generic' from leads where id = any($1::bigint[])`,
    [ids],
  );
  await sql(svc)(`update leads set status = 'composed' where id = any($1::bigint[])`, [ids]);
  const r = await gateAt(svc, ids, now, 'fullday');
  expect(r.sendNow.map((s: any) => s.day)).toEqual(['2026-12-02', '2026-12-02']);
  expect(
    await sql(svc)("select claimed, scheduled from sender_days where sender_id = 'fullday' and day = '2026-12-02'"),
  ).toEqual([{ claimed: 0, scheduled: 2 }]);
});

test("a window crossing the sender's midnight continues on the sender's next day when the first is full", async () => {
  // sender in Tokyo, recipient in New York: the NY window 09:00–17:00 is 23:00–07:00 in Tokyo
  await svc.api('PUT', '/v1/senders/tokyo', { dailyQuota: 1, timezone: 'Asia/Tokyo' });
  const ids = await composedLeads(svc, [{ country: 'US', state: 'NY' }, { country: 'US', state: 'NY' }, { country: 'US', state: 'NY' }]);
  // Wednesday 09:00 in New York = 23:00 Wednesday in Tokyo
  const r = await gateAt(svc, ids, at('2026-12-02T14:00:00Z'), 'tokyo');
  expect([...r.sendNow, ...r.scheduled].map((s: any) => [s.leadId, s.status, s.localTime, s.day])).toEqual([
    [ids[0], 'sending', '2026-12-02T09:00:00-05:00', '2026-12-02'],
    [ids[1], 'scheduled', '2026-12-02T10:00:00-05:00', '2026-12-03'], // Tokyo's Thursday starts at 10:00 in NY
    [ids[2], 'scheduled', '2026-12-03T10:00:00-05:00', '2026-12-04'],
  ]);
});
