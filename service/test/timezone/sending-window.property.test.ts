import fc from 'fast-check';
import { nextSendingWindow, upcomingWindows } from '../../src/timezone/sending-window';
import { legal, PLACES, ruleArb, ZONES } from './legal-instant';

// The specification (legal-instant.ts) against the fast implementation, for random
// zones (every IANA zone), places, rules and instants.

const instantArb = fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 11, 31) });
const STEP = 10 * 60_000;

test('sendAt is legal, is the earliest legal instant, and its window closes exactly when legality ends', () => {
  fc.assert(
    fc.property(fc.constantFrom(...ZONES), fc.constantFrom(...PLACES), ruleArb, instantArb, (zone, place, rule, from) => {
      const recipient = { timezone: zone, ...place };
      const next = nextSendingWindow(recipient, rule, new Date(from));
      if (!next) return; // every open day a holiday for two years cannot happen with these rules
      const sendAt = next.sendAt.getTime();
      const end = next.windowEnd.getTime();
      expect(sendAt).toBeGreaterThanOrEqual(from);
      expect(legal(zone, place, rule, sendAt)).toBe(true);
      if (sendAt > from) expect(legal(zone, place, rule, sendAt - 1000)).toBe(false);
      // no legal instant between `from` and sendAt (every window is longer than the step)
      for (let t = from; t < sendAt; t += STEP) expect(legal(zone, place, rule, t)).toBe(false);
      expect(legal(zone, place, rule, end - 1000)).toBe(true);
      expect(legal(zone, place, rule, end)).toBe(false);
    }),
    { numRuns: 250 },
  );
});

test('upcoming windows are ordered, disjoint, each legal throughout and nothing legal between them', () => {
  fc.assert(
    fc.property(fc.constantFrom(...ZONES), fc.constantFrom(...PLACES), ruleArb, instantArb, (zone, place, rule, from) => {
      const windows = upcomingWindows({ timezone: zone, ...place }, rule, new Date(from), 5);
      expect(windows).toHaveLength(5);
      let previousEnd = from;
      for (const w of windows) {
        const s = w.start.getTime();
        const e = w.end.getTime();
        expect(e).toBeGreaterThan(Math.max(s, previousEnd));
        expect(legal(zone, place, rule, Math.max(s, from))).toBe(true);
        expect(legal(zone, place, rule, e - 1000)).toBe(true);
        expect(legal(zone, place, rule, e)).toBe(false);
        for (let t = previousEnd; t < Math.max(s, from); t += STEP) expect(legal(zone, place, rule, t)).toBe(false);
        previousEnd = e;
      }
    }),
    { numRuns: 50 },
  );
});
