// Test support: the sending-window specification checked with luxon's UTC → wall-clock
// conversion (the direction that is never ambiguous). An instant is legal when the
// recipient's wall clock shows an open weekday that is not a public holiday (when
// skipped), at or after the opening and before the closing.
import Holidays from 'date-holidays';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { normalizeCountry } from '../../src/timezone/countries';
import type { SendingRule } from '../../src/timezone/sending-window';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
export const ZONES = Intl.supportedValuesOf('timeZone');
export const PLACES: { country?: string; state?: string }[] = [
  {},
  { country: 'US' },
  { country: 'US', state: 'CA' },
  { country: 'IN' },
  { country: 'AU', state: 'SA' },
  { country: 'AU', state: 'NSW' },
  { country: 'DE', state: 'BY' },
  { country: 'GB' },
  { country: 'CL' },
  { country: 'NZ' },
  { country: 'SA' },
  { country: 'AE' },
  { country: 'BR' },
  { country: 'JP' },
  { country: 'Atlantis' },
];

const holidayDates = new Map<string, Set<string>>();
function isHoliday(country: string | undefined, state: string | undefined, isoDate: string): boolean {
  const iso = country ? normalizeCountry(country) : undefined;
  if (!iso) return false;
  const key = `${iso}|${state ?? ''}|${isoDate.slice(0, 4)}`;
  let dates = holidayDates.get(key);
  if (!dates) {
    const hd = state ? new Holidays(iso, state) : new Holidays(iso);
    dates = new Set(
      (hd.getHolidays(Number(isoDate.slice(0, 4))) || [])
        .filter((h) => h.type === 'public' && h.date.slice(11, 16) <= '12:00')
        .flatMap((h) => {
          const days = Math.max(1, Math.round((h.end.getTime() - h.start.getTime()) / 86_400_000));
          return Array.from({ length: days }, (_, i) => DateTime.fromISO(h.date.slice(0, 10), { zone: 'UTC' }).plus({ days: i }).toISODate()!);
        }),
    );
    holidayDates.set(key, dates);
  }
  return dates.has(isoDate);
}

export function legal(zone: string, place: { country?: string; state?: string }, rule: SendingRule, ms: number): boolean {
  const local = DateTime.fromMillis(ms, { zone });
  if (!rule.days.includes(WEEKDAYS[local.weekday - 1]!)) return false;
  if (rule.skipHolidays && isHoliday(place.country, place.state, local.toISODate()!)) return false;
  const hhmm = local.toFormat('HH:mm');
  return hhmm >= rule.start && hhmm < rule.end;
}

const clock = (hMin: number, hMax: number) =>
  fc.tuple(fc.integer({ min: hMin, max: hMax }), fc.constantFrom(0, 15, 30, 45)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);

// Openings 05:00–12:45 and closings 13:00–22:45: no zone changes its clocks then, so
// every window is a plain interval of wall time (gaps and repeats are in the table test).
export const ruleArb = fc.record({
  days: fc.subarray(WEEKDAYS, { minLength: 1 }),
  start: clock(5, 12),
  end: clock(13, 22),
  skipHolidays: fc.boolean(),
});

