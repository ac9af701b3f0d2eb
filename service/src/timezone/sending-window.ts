import { holidayCalendar, type HolidayCalendar } from './holidays';
import { DAY, dayNumber, MINUTE, weekdayOf, ZoneClock } from './zone-clock';

// The sending window (days, start, end) evaluated on the recipient's wall clock,
// DST-correct, public holidays of the recipient's country/state skipped when the
// sender asks. A window is [start, end): an email may leave at start, not at end.

export interface SendingRule {
  /** Weekdays the window is open: "mon" … "sun". */
  days: string[];
  /** Wall-clock opening, "HH:MM" (24 h). */
  start: string;
  /** Wall-clock closing, "HH:MM" (24 h, after start). */
  end: string;
  skipHolidays: boolean;
}

export interface Recipient {
  /** IANA zone (already resolved, see resolveRecipientTimezone). */
  timezone: string;
  /** For public holidays: ISO alpha-2 (alpha-3 and English names are accepted too). */
  country?: string;
  state?: string;
}

export interface SendingWindow {
  start: Date;
  end: Date;
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
/** A recipient with no open day in this many days has no window at all. */
const SEARCH_DAYS = 800;

/** A rule parsed once: the weekday mask and the opening and closing minute. */
export interface CompiledRule {
  readonly open: readonly boolean[];
  readonly startMs: number;
  readonly endMs: number;
  readonly skipHolidays: boolean;
}

const compiledByObject = new WeakMap<SendingRule, CompiledRule>();
const compiledByKey = new Map<string, CompiledRule>();

/**
 * Parses (and caches) a rule, treated as immutable; throws RangeError for an
 * unknown day or a malformed/empty window.
 */
export function compileRule(rule: SendingRule): CompiledRule {
  let compiled = compiledByObject.get(rule);
  if (compiled) return compiled;
  const key = `${rule.days.join(',')}|${rule.start}|${rule.end}|${rule.skipHolidays ? 1 : 0}`;
  compiled = compiledByKey.get(key);
  if (!compiled) {
    const open = WEEKDAYS.map(() => false);
    for (const d of rule.days) {
      const i = WEEKDAYS.indexOf(d.toLowerCase());
      if (i < 0) throw new RangeError(`"${d}" is not a weekday (mon … sun)`);
      open[i] = true;
    }
    const startMs = clockMs(rule.start);
    const endMs = clockMs(rule.end);
    if (endMs <= startMs) throw new RangeError(`The window end ${rule.end} must be after its start ${rule.start}`);
    compiled = Object.freeze({ open, startMs, endMs, skipHolidays: rule.skipHolidays });
    if (compiledByKey.size > 10_000) compiledByKey.clear();
    compiledByKey.set(key, compiled);
  }
  compiledByObject.set(rule, compiled);
  return compiled;
}

function clockMs(hhmm: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  const h = m ? Number(m[1]) : NaN;
  const min = m ? Number(m[2]) : NaN;
  if (!(h >= 0 && h <= 24 && min >= 0 && min < 60 && h * 60 + min <= 1440)) {
    throw new RangeError(`"${hhmm}" is not a wall-clock time HH:MM`);
  }
  return (h * 60 + min) * MINUTE;
}

function clockOf(zone: string): ZoneClock {
  const clock = ZoneClock.of(zone);
  if (!clock) throw new RangeError(`"${zone}" is not an IANA time zone`);
  return clock;
}

/** Where findWindow writes its answer (reused by the caller: no allocation per decision). */
export interface WindowSlot {
  startMs: number;
  endMs: number;
}

/**
 * The first window that ends after `fromMs` (it may already be open), written
 * into `out`; false when the rule does not open within SEARCH_DAYS. The hot path
 * of the gate: a few cached lookups per day, no allocation.
 */
export function findWindow(
  clock: ZoneClock,
  rule: CompiledRule,
  holidays: HolidayCalendar,
  fromMs: number,
  out: WindowSlot,
): boolean {
  // The window of the previous local day cannot still be open (end ≤ 24:00), so start today.
  let day = dayNumber(clock.localMs(fromMs));
  for (let n = 0; n < SEARCH_DAYS; n++, day++) {
    if (!rule.open[weekdayOf(day)]) continue;
    if (rule.skipHolidays && holidays.isHoliday(day)) continue;
    const midnight = day * DAY;
    const endMs = clock.utcOf(midnight + rule.endMs);
    if (endMs <= fromMs) continue;
    const startMs = clock.utcOf(midnight + rule.startMs);
    if (startMs >= endMs) continue; // the whole window fell into a DST gap
    out.startMs = startMs;
    out.endMs = endMs;
    return true;
  }
  return false;
}

function calendarFor(recipient: Recipient, rule: CompiledRule): HolidayCalendar {
  return holidayCalendar(rule.skipHolidays ? recipient.country : undefined, recipient.state);
}

/**
 * The next `count` sending windows on the recipient's wall clock. The first may
 * already be open at `from` (then start <= from < end).
 */
export function upcomingWindows(recipient: Recipient, rule: SendingRule, from: Date, count: number): SendingWindow[] {
  const compiled = compileRule(rule);
  const clock = clockOf(recipient.timezone);
  const holidays = calendarFor(recipient, compiled);
  const windows: SendingWindow[] = [];
  const slot: WindowSlot = { startMs: 0, endMs: 0 };
  let fromMs = from.getTime();
  while (windows.length < count && findWindow(clock, compiled, holidays, fromMs, slot)) {
    windows.push({ start: new Date(slot.startMs), end: new Date(slot.endMs) });
    fromMs = slot.endMs;
  }
  return windows;
}

const scratch: WindowSlot = { startMs: 0, endMs: 0 };

/**
 * The earliest instant at or after `from` at which an email may leave for this
 * recipient (from itself when the window is open), with the end of that window;
 * undefined when the rule never opens (e.g. every open day is a holiday).
 */
export function nextSendingWindow(
  recipient: Recipient,
  rule: SendingRule,
  from: Date,
): { sendAt: Date; windowEnd: Date } | undefined {
  const compiled = compileRule(rule);
  const fromMs = from.getTime();
  if (!findWindow(clockOf(recipient.timezone), compiled, calendarFor(recipient, compiled), fromMs, scratch)) return undefined;
  return { sendAt: new Date(Math.max(scratch.startMs, fromMs)), windowEnd: new Date(scratch.endMs) };
}
