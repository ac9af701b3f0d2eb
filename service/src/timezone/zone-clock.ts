import { IANAZone } from 'luxon';

// Fast, DST-correct offsets for IANA zones. luxon (Intl underneath) answers the
// offset of a zone at an instant in a few microseconds; a gate decision needs
// several, so each zone keeps the answer per UTC hour. An hour whose start and
// end have the same offset has no transition inside (zones change at most once
// an hour), so one cached number answers every instant in it; the rare hour
// holding a transition is marked and asked of luxon exactly.

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
const TRANSITION = Number.NaN;
/** Hours cached per zone before the cache starts over (≈ 11 years of hours). */
const MAX_HOURS = 100_000;

export class ZoneClock {
  private readonly hours = new Map<number, number>();
  /** Local day number → the offset that holds all that local day (NaN: a transition is near). */
  private readonly days = new Map<number, number>();

  private constructor(
    readonly name: string,
    private readonly zone: IANAZone,
  ) {}

  private static readonly clocks = new Map<string, ZoneClock | null>();

  /** The clock of an IANA zone, or undefined when the zone is unknown. Cached. */
  static of(name: string): ZoneClock | undefined {
    let clock = ZoneClock.clocks.get(name);
    if (clock === undefined) {
      const zone = IANAZone.create(name);
      clock = zone.isValid ? new ZoneClock(name, zone) : null;
      ZoneClock.clocks.set(name, clock);
    }
    return clock ?? undefined;
  }

  /** Offset from UTC in minutes at the instant `ms` (epoch milliseconds). */
  offsetAt(ms: number): number {
    const hour = Math.floor(ms / HOUR);
    let offset = this.hours.get(hour);
    if (offset === undefined) {
      if (this.hours.size >= MAX_HOURS) this.hours.clear();
      const start = this.zone.offset(hour * HOUR);
      offset = start === this.zone.offset(hour * HOUR + HOUR - 1) ? start : TRANSITION;
      this.hours.set(hour, offset);
    }
    return offset === offset ? offset : this.zone.offset(ms);
  }

  /** Wall-clock time at `ms` as epoch milliseconds of the same wall time in UTC. */
  localMs(ms: number): number {
    return ms + this.offsetAt(ms) * MINUTE;
  }

  /**
   * The instant at which this zone's clocks first show the wall time `local`
   * (given as epoch milliseconds of that wall time in UTC). A wall time that
   * occurs twice (autumn) gives its first occurrence; one skipped by a spring
   * transition gives the transition instant, the first moment at or past it.
   */
  utcOf(local: number): number {
    const day = Math.floor(local / DAY);
    let offset = this.days.get(day);
    if (offset === undefined) {
      if (this.days.size >= MAX_HOURS) this.days.clear();
      const midnight = day * DAY;
      const o = this.offsetAt(midnight - this.offsetAt(midnight) * MINUTE);
      // The same offset from 12 h before this local day to 12 h after it (transitions are
      // months apart): every wall time of the day maps back with it.
      const before = this.offsetAt(midnight - o * MINUTE - 12 * HOUR);
      const after = this.offsetAt(midnight + DAY - o * MINUTE + 12 * HOUR);
      offset = before === o && after === o ? o : TRANSITION;
      this.days.set(day, offset);
    }
    return offset === offset ? local - offset * MINUTE : this.utcNearTransition(local);
  }

  private utcNearTransition(local: number): number {
    const guess = this.offsetAt(local - this.offsetAt(local) * MINUTE);
    const utc = local - guess * MINUTE;
    const before = this.offsetAt(utc - 6 * HOUR);
    const after = this.offsetAt(utc + 6 * HOUR);
    if (before === guess && after === guess) return utc;
    // A transition is near: the solutions are the candidate offsets that hold at their instant.
    let best = Number.POSITIVE_INFINITY;
    for (const o of [guess, before, after]) {
      const u = local - o * MINUTE;
      if (this.offsetAt(u) === o && u < best) best = u;
    }
    if (best !== Number.POSITIVE_INFINITY) return best;
    // In a gap: the wall time never shows; the clocks jump past it at the transition.
    let lo = local - Math.max(before, after) * MINUTE;
    let hi = local - Math.min(before, after) * MINUTE;
    const loOffset = this.offsetAt(lo);
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (this.offsetAt(mid) === loOffset) lo = mid;
      else hi = mid;
    }
    return hi;
  }
}

/**
 * "2026-03-09T10:30:00-04:00": the wall time at `ms` in `zone`, to the second, with
 * its offset. Uses the same zone data as the windows (Node's ICU), which can be
 * newer or older than the database's own tzdata.
 */
export function localTimeIso(ms: number, zone: string): string | undefined {
  const clock = ZoneClock.of(zone);
  if (!clock) return undefined;
  const offset = clock.offsetAt(ms);
  const wall = new Date(Math.floor(ms / 1000) * 1000 + offset * MINUTE).toISOString().slice(0, 19);
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(Math.round(abs % 60)).padStart(2, '0');
  return `${wall}${offset < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** Day number (days since 1970-01-01) of a wall time given as UTC epoch ms. */
export function dayNumber(local: number): number {
  return Math.floor(local / DAY);
}

/** 0 = Monday … 6 = Sunday, for a day number (1970-01-01 was a Thursday). */
export function weekdayOf(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}
