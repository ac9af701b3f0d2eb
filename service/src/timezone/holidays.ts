import type Holidays from 'date-holidays';
import { normalizeCountry } from './countries';
import { DAY } from './zone-clock';

// Public holidays of a country (and state/province where known) from
// date-holidays, type "public" only (bank, school, optional and observance days
// are working days for a B2B inbox). One calendar per country/state, each year's
// dates computed once and kept as a set of day numbers, so checking a day is a
// set lookup.

// date-holidays carries every country's rules (~13 MB resident): loaded with the
// first holiday question, so a service that is not gating does not pay for it.
let loaded: { Holidays: typeof Holidays; library: Holidays } | undefined;
function dateHolidays() {
  if (!loaded) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const HolidaysClass = require('date-holidays') as typeof Holidays;
    loaded = { Holidays: HolidaysClass, library: new HolidaysClass() };
  }
  return loaded;
}

export interface HolidayCalendar {
  /** True when the local date `day` (days since 1970-01-01) is a public holiday. */
  isHoliday(day: number): boolean;
}

const NO_HOLIDAYS: HolidayCalendar = { isHoliday: () => false };

class YearlyCalendar implements HolidayCalendar {
  private readonly days = new Set<number>();
  private readonly years = new Set<number>();
  private fromDay = 0;
  private toDay = -1;

  constructor(private readonly holidays: Holidays) {}

  isHoliday(day: number): boolean {
    if (day < this.fromDay || day > this.toDay) this.load(new Date(day * DAY).getUTCFullYear());
    return this.days.has(day);
  }

  private load(year: number): void {
    if (!this.years.has(year)) this.addYear(year);
    // The covered range is the contiguous run of loaded years around this one.
    let lo = year;
    let hi = year;
    while (this.years.has(lo - 1)) lo--;
    while (this.years.has(hi + 1)) hi++;
    this.fromDay = Date.UTC(lo, 0, 1) / DAY;
    this.toDay = Date.UTC(hi + 1, 0, 1) / DAY - 1;
  }

  private addYear(year: number): void {
    this.years.add(year);
    for (const h of this.holidays.getHolidays(year) || []) {
      // A holiday starting in the evening (Christmas Eve from 19:00 in South Australia)
      // leaves the business day a working day.
      if (h.type !== 'public' || h.date.slice(11, 16) > '12:00') continue;
      const first = dayOf(h.date);
      // Multi-day holidays (some New Year or Eid breaks) cover every date they span.
      const days = Math.max(1, Math.round((h.end.getTime() - h.start.getTime()) / DAY));
      for (let d = first; d < first + days; d++) this.days.add(d);
    }
  }
}

/** "2026-07-03 00:00:00" (a local date as date-holidays writes it) → day number. */
function dayOf(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY;
}

/** country → state ('' for none) → calendar: nested maps, so a lookup builds no key string. */
const calendars = new Map<string, Map<string, HolidayCalendar>>();

/**
 * The public-holiday calendar of a country (alpha-2, alpha-3 or English name)
 * and optional state (a date-holidays state code such as "CA", or its English
 * name). Unknown countries have no holidays; an unknown state falls back to the country.
 */
export function holidayCalendar(country: string | undefined, state?: string): HolidayCalendar {
  if (!country) return NO_HOLIDAYS;
  let byState = calendars.get(country);
  if (!byState) calendars.set(country, (byState = new Map()));
  const stateKey = state ?? '';
  let calendar = byState.get(stateKey);
  if (calendar === undefined) {
    calendar = buildCalendar(country, state || undefined);
    byState.set(stateKey, calendar);
  }
  return calendar;
}

function buildCalendar(input: string, state: string | undefined): HolidayCalendar {
  const country = normalizeCountry(input);
  if (!country || !dateHolidays().library.getCountries()[country]) return NO_HOLIDAYS;
  const code = state ? holidayStateCode(country, state) : undefined;
  if (state && code === undefined) return holidayCalendar(country);
  const { Holidays: HolidaysClass } = dateHolidays();
  const holidays = code ? new HolidaysClass(country, code) : new HolidaysClass(country);
  return new YearlyCalendar(holidays);
}

const stateCodes = new Map<string, Map<string, string>>();

/** date-holidays' code for a state given as its code or English name ("NSW", "New South Wales"). */
export function holidayStateCode(country: string, state: string): string | undefined {
  let codes = stateCodes.get(country);
  if (!codes) {
    codes = new Map();
    for (const [code, name] of Object.entries(dateHolidays().library.getStates(country) ?? {})) {
      codes.set(simplifyName(code), code);
      codes.set(simplifyName(name), code);
    }
    stateCodes.set(country, codes);
  }
  return codes.get(simplifyName(state));
}

/** The English name date-holidays gives a state code ("NSW" → "New South Wales"). */
export function holidayStateName(country: string, code: string): string | undefined {
  return (dateHolidays().library.getStates(country) as Record<string, string> | undefined)?.[code];
}

/** Lower case, accents dropped, spaces collapsed: "Québec" → "quebec". */
export function simplifyName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\./g, '')
    .replace(/[\s_-]+/g, ' ')
    .trim();
}
