import { z } from '@hono/zod-openapi';
import ct from 'countries-and-timezones';

// The one check of a time zone name, for every input that takes one (a lead's
// timezone, a sender's, COROFY_DEFAULT_TIMEZONE).

const zoneValidity = new Map<string, boolean>();
let supported: Set<string> | undefined;
const supportedZones = () => (supported ??= new Set(Intl.supportedValuesOf('timeZone')));

/** True for an IANA zone name this runtime knows (answers cached: imports repeat zones). */
export function isIanaZone(zone: string): boolean {
  let ok = zoneValidity.get(zone);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      // ICU still takes names tzdata dropped ("US/Pacific-New") that Postgres refuses
      ok = (zone.includes('/') || zone === 'UTC') && (supportedZones().has(zone) || Boolean(ct.getTimezone(zone)));
    } catch {
      ok = false;
    }
    zoneValidity.set(zone, ok);
  }
  return ok;
}

/** An IANA time zone name in a request ("Europe/Berlin"). */
export const TimeZoneSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine(isIanaZone, { message: 'must be an IANA time zone such as "Europe/Berlin"' })
  .openapi({ example: 'Europe/Berlin' });
