import fc from 'fast-check';
import { DateTime } from 'luxon';
import { startTestService, type TestService } from '../support/test-service';
import { legal, PLACES, ruleArb, ZONES } from '../timezone/legal-instant';
import { composedLeads, gateAt } from './gate-fixture';
import { stopService } from '../support/sends-fixture';

// Through the whole gate (TS windows + the SQL function), for random leads,
// rules and instants: a send is never handed out outside the recipient's window,
// sendAt is the earliest legal instant, and "send now" means exactly sendAt = now.

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

const IMPORTABLE_ZONES = ZONES.filter((z) => z.includes('/'));
// import refuses unknown countries, so every place here is a real one
const IMPORTABLE_PLACES = PLACES.filter((p) => p.country !== 'Atlantis');
const leadArb = fc.oneof(
  fc.record({ timezone: fc.constantFrom(...IMPORTABLE_ZONES), place: fc.constantFrom(...IMPORTABLE_PLACES) }),
  fc.record({ place: fc.constantFrom(...IMPORTABLE_PLACES) }),
);
const STEP = 10 * 60_000;
let run = 0;

test('random leads and instants: legal, earliest, and sent now only when the window is open now', async () => {
  await fc.assert(
    fc.asyncProperty(
      ruleArb,
      fc.array(leadArb, { minLength: 1, maxLength: 4 }),
      fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 11, 31) }),
      async (rule, leads, nowMs) => {
        const sender = `prop${++run}`;
        const put = await svc.api('PUT', `/v1/senders/${sender}`, { window: { days: rule.days, start: rule.start, end: rule.end }, skipHolidays: rule.skipHolidays });
        expect(put.status).toBe(200);
        const ids = await composedLeads(
          svc,
          leads.map((l) => ({ ...('timezone' in l ? { timezone: l.timezone } : {}), ...l.place })),
        );
        const r = await gateAt(svc, ids, new Date(nowMs), sender);
        expect(r.skipped).toEqual([]);
        expect(r.sendNow.length + r.scheduled.length).toBe(ids.length);
        for (const send of [...r.sendNow, ...r.scheduled]) {
          const lead = leads[ids.indexOf(send.leadId)]!;
          const place = lead.place;
          const zone: string = send.timezone;
          if ('timezone' in lead) expect(zone).toBe(lead.timezone);
          const sendAt = Date.parse(send.sendAt);
          const windowEnd = Date.parse(send.windowEnd);
          expect(send.status).toBe(sendAt === nowMs ? 'sending' : 'scheduled');
          expect(sendAt).toBeGreaterThanOrEqual(nowMs);
          expect(legal(zone, place, rule, sendAt)).toBe(true);
          if (sendAt > nowMs) expect(legal(zone, place, rule, sendAt - 1000)).toBe(false);
          for (let t = nowMs; t < sendAt; t += STEP) expect(legal(zone, place, rule, t)).toBe(false);
          expect(legal(zone, place, rule, windowEnd - 1000)).toBe(true);
          expect(legal(zone, place, rule, windowEnd)).toBe(false);
          expect(Date.parse(send.localTime)).toBe(Math.floor(sendAt / 1000) * 1000); // to the second
          expect(send.localTime.slice(0, 19)).toBe(DateTime.fromMillis(sendAt, { zone }).toFormat("yyyy-MM-dd'T'HH:mm:ss"));
        }
      },
    ),
    { numRuns: 40 },
  );
});
