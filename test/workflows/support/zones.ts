// Test support: time zones chosen at run time so that it is business hours
// there right now (or clearly not), whatever the real clock says.

const ZONES = [
  'Pacific/Pago_Pago', 'Pacific/Honolulu', 'America/Anchorage', 'America/Los_Angeles', 'America/Phoenix',
  'America/Mexico_City', 'America/Bogota', 'America/La_Paz', 'America/Sao_Paulo', 'Atlantic/South_Georgia',
  'Atlantic/Cape_Verde', 'Africa/Abidjan', 'Africa/Lagos', 'Africa/Johannesburg', 'Africa/Nairobi', 'Asia/Dubai',
  'Asia/Karachi', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Singapore', 'Asia/Tokyo', 'Australia/Brisbane',
  'Pacific/Noumea', 'Pacific/Tarawa', 'Pacific/Tongatapu', 'Pacific/Kiritimati',
];

/** Local clock time (hours, fractional) in a zone at `now`. */
export function localHour(zone: string, now: Date = new Date()): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(now);
  const h = Number(parts.find((p) => p.type === 'hour')!.value);
  const m = Number(parts.find((p) => p.type === 'minute')!.value);
  return h + m / 60;
}

/**
 * Zones where the local time is well inside 09:00–17:00 (10:00–15:00, so a run
 * of a few minutes stays inside), zones where it is early morning (05:00–08:00:
 * outside, the window opens within a few hours), and a sender zone whose day
 * lasts past those openings, so every email of the batch counts on the
 * sender's today. Pair with a sender window of every day 09:00–17:00, holidays
 * not skipped.
 */
export function zonesByWindow(now: Date = new Date()): { inside: string[]; outside: string[]; senderZone: string } {
  const inside: string[] = [];
  const outside: string[] = [];
  for (const zone of ZONES) {
    const h = localHour(zone, now);
    if (h >= 10 && h < 15) inside.push(zone);
    else if (h >= 5 && h < 8) outside.push(zone);
  }
  if (inside.length === 0 || outside.length === 0) throw new Error('zone table does not cover the clock');
  return { inside, outside, senderZone: inside[0]! };
}

export const ALL_DAYS_WINDOW = {
  window: { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '09:00', end: '17:00' },
  skipHolidays: false,
};
