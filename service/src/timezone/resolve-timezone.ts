import cityTimezones from 'city-timezones';
import ct from 'countries-and-timezones';
import { normalizeCountry } from './countries';
import { holidayStateCode, holidayStateName, simplifyName } from './holidays';
import { ZoneClock } from './zone-clock';

// Where a recipient's clock is, most specific first, with where the answer came from:
//   lead            a valid IANA zone on the lead
//   state           country + state/province: the zone most of that state's people live in
//   city            the city's zone (among the country's cities when the country is known)
//   country         a country whose zones all keep the same time (DE, IN, FR, …)
//   country_default a multi-zone country (US, CA, AU, BR, RU, MX, ID, KZ, …) with nothing finer:
//                   its most populous zone
//   sender          nothing usable on the lead: the sender's own zone
// Data: countries-and-timezones (zones per country) and city-timezones (≈7,300
// cities with province, population and zone). "Most populous" sums the city
// populations of city-timezones per zone, so the defaults come from the data, not
// from a hand-written table: US → America/New_York, CA → America/Toronto,
// AU → Australia/Sydney, BR → America/Sao_Paulo, RU → Europe/Moscow,
// MX → America/Mexico_City, ID → Asia/Jakarta, CN → Asia/Shanghai (pinned by tests).
// Kazakhstan has kept one time (+05) in all its zones since 2024, so KZ answers
// Asia/Almaty as 'country': the offsets decide, not a list of "multi-zone" names.

export type TimezoneSource = 'lead' | 'state' | 'city' | 'country' | 'country_default' | 'sender';

export interface LeadLocation {
  timezone?: string | null;
  country?: string | null;
  state?: string | null;
  city?: string | null;
}

export interface ResolvedTimezone {
  zone: string;
  source: TimezoneSource;
}

type City = (typeof cityTimezones.cityMapping)[number];

/** Cities by simplified name (name and ASCII name), built on first use. */
let citiesByName: Map<string, City[]> | undefined;
/** country → simplified province name → its most populous zone. */
const provinceZones = new Map<string, Map<string, string>>();
const countryZones = new Map<string, ResolvedTimezone | null>();
const resolved = new Map<string, unknown>();
let resolvedCount = 0;
const MAX_RESOLVED = 50_000;

function cities(): Map<string, City[]> {
  if (!citiesByName) {
    citiesByName = new Map();
    for (const city of cityTimezones.cityMapping) {
      for (const name of new Set([simplifyName(city.city), simplifyName(city.city_ascii)])) {
        const list = citiesByName.get(name);
        if (list) list.push(city);
        else citiesByName.set(name, [city]);
      }
    }
  }
  return citiesByName;
}

/** The zone holding most of `people`'s population (ties: alphabetical, for stability). */
function mostPopulousZone(people: Iterable<City>): string | undefined {
  const byZone = new Map<string, number>();
  for (const c of people) {
    const zone = canonicalZone(c.timezone);
    if (!zone) continue;
    byZone.set(zone, (byZone.get(zone) ?? 0) + (c.pop || 0));
  }
  let best: string | undefined;
  let bestPop = -1;
  for (const [zone, pop] of [...byZone].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (pop > bestPop) {
      best = zone;
      bestPop = pop;
    }
  }
  return best;
}

/** The current name of a zone from the data ("America/Montreal" → "America/Toronto"); undefined if unknown. */
function canonicalZone(zone: string): string | undefined {
  const canonical = (ct.getTimezone(zone)?.aliasOf as string | null | undefined) ?? zone;
  return ZoneClock.of(canonical) ? canonical : ZoneClock.of(zone) ? zone : undefined;
}

function zoneOfState(country: string, state: string): string | undefined {
  let provinces = provinceZones.get(country);
  if (!provinces) {
    const grouped = new Map<string, City[]>();
    for (const city of cityTimezones.cityMapping) {
      if (city.iso2 !== country || !city.province) continue;
      const key = simplifyName(city.province);
      const list = grouped.get(key);
      if (list) list.push(city);
      else grouped.set(key, [city]);
    }
    provinces = new Map();
    for (const [key, list] of grouped) {
      const zone = mostPopulousZone(list);
      if (!zone) continue;
      provinces.set(key, zone);
      // US states are also known by their postal code ("CA"), which city-timezones carries.
      const ansi = list.find((c) => c.state_ansi)?.state_ansi;
      if (ansi) provinces.set(simplifyName(ansi), zone);
    }
    provinceZones.set(country, provinces);
  }
  const key = simplifyName(state);
  const direct = provinces.get(key);
  if (direct) return direct;
  // Codes such as "NSW" or "ON": date-holidays knows each country's state codes and names.
  const code = holidayStateCode(country, state);
  const name = code ? holidayStateName(country, code) : undefined;
  return name ? provinces.get(simplifyName(name)) : undefined;
}

function zoneOfCity(city: string, country: string | undefined): string | undefined {
  const matches = cities().get(simplifyName(city));
  if (!matches) return undefined;
  if (country) return mostPopulousZone(matches.filter((c) => c.iso2 === country));
  // No country: only a name every match agrees on ("Springfield" does not qualify).
  const zones = new Set(matches.map((c) => canonicalZone(c.timezone)));
  return zones.size === 1 ? mostPopulousZone(matches) : undefined;
}

function zoneOfCountry(country: string): ResolvedTimezone | undefined {
  let answer = countryZones.get(country);
  if (answer === undefined) {
    answer = null;
    const zones: string[] = (ct.getCountry(country)?.timezones ?? []).filter((z) => ZoneClock.of(z));
    if (zones.length > 0) {
      const populous = mostPopulousZone(
        cityTimezones.cityMapping.filter((c) => c.iso2 === country && zones.includes(canonicalZone(c.timezone) ?? '')),
      );
      const zone = populous ?? zones[0]!;
      answer = { zone, source: keepOneTime(zones) ? 'country' : 'country_default' };
    }
    countryZones.set(country, answer);
  }
  return answer ?? undefined;
}

/** True when every zone keeps the same offsets through this year and the next (DE's Berlin and Büsingen). */
function keepOneTime(zones: string[]): boolean {
  if (zones.length === 1) return true;
  const year = new Date().getUTCFullYear();
  const probes: number[] = [];
  for (let m = 0; m < 24; m++) probes.push(Date.UTC(year, m, 15));
  const [first, ...rest] = zones.map((z) => ZoneClock.of(z)!);
  return rest.every((clock) => probes.every((t) => clock.offsetAt(t) === first!.offsetAt(t)));
}

/**
 * The recipient's zone, most specific first (see above), and where it came from.
 * Answers are cached per distinct input: leads repeat their locations.
 */
export function resolveRecipientTimezone(lead: LeadLocation, senderZone: string): ResolvedTimezone {
  // Nested maps keyed by the lead's own strings: no key string is built per call.
  const byCity = branch(branch(branch(branch(resolved, senderZone), lead.timezone ?? ''), lead.country ?? ''), lead.state ?? '');
  const city = lead.city ?? '';
  let answer = byCity.get(city) as ResolvedTimezone | undefined;
  if (!answer) {
    if (++resolvedCount > MAX_RESOLVED) {
      resolved.clear();
      resolvedCount = 0;
      return resolveRecipientTimezone(lead, senderZone);
    }
    answer = resolveUncached(lead, senderZone);
    byCity.set(city, answer);
  }
  return answer;
}

function branch(level: Map<string, unknown>, key: string): Map<string, unknown> {
  let next = level.get(key) as Map<string, unknown> | undefined;
  if (!next) level.set(key, (next = new Map()));
  return next;
}

function resolveUncached(lead: LeadLocation, senderZone: string): ResolvedTimezone {
  const given = lead.timezone?.trim();
  if (given && isZone(given)) return { zone: given, source: 'lead' };
  const country = lead.country ? normalizeCountry(lead.country) : undefined;
  if (country && lead.state?.trim()) {
    const zone = zoneOfState(country, lead.state);
    if (zone) return { zone, source: 'state' };
  }
  if (lead.city?.trim()) {
    const zone = zoneOfCity(lead.city, country);
    if (zone) return { zone, source: 'city' };
  }
  if (country) {
    const answer = zoneOfCountry(country);
    if (answer) return answer;
  }
  return { zone: senderZone, source: 'sender' };
}

/** An IANA zone name ("Europe/Berlin", "UTC"); offsets like "+02:00" or "EST" are not zones of a place. */
function isZone(zone: string): boolean {
  return (zone.includes('/') || zone === 'UTC') && ZoneClock.of(zone) !== undefined;
}
