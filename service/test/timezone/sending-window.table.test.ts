import { nextSendingWindow, upcomingWindows, type SendingRule } from '../../src/timezone/sending-window';

// One row per case: the recipient (zone, country, state), the sender's rule, the
// instant we ask at (UTC), and the expected opening and closing of the next window
// written on the recipient's wall clock with its offset. "open" rows expect the
// window to be open already: sendAt is the instant asked.

const BH: SendingRule = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', skipHolidays: true };
const ALL_DAYS: SendingRule = { ...BH, skipHolidays: false };
const SUN_THU: SendingRule = { ...BH, days: ['sun', 'mon', 'tue', 'wed', 'thu'] };
const sunday = (start: string, end: string): SendingRule => ({ days: ['sun'], start, end, skipHolidays: false });

type Row = [label: string, zone: string, country: string | undefined, state: string | undefined, rule: SendingRule, from: string, sendAt: string, end: string];

const rows: Row[] = [
  // half-hour and 45-minute offsets
  ['Kolkata before opening', 'Asia/Kolkata', 'IN', undefined, BH, '2026-12-02T03:00:00Z', '2026-12-02T09:00+05:30', '2026-12-02T17:00+05:30'],
  ['Kolkata at opening is open', 'Asia/Kolkata', 'IN', undefined, BH, '2026-12-02T03:30:00Z', '2026-12-02T09:00+05:30', '2026-12-02T17:00+05:30'],
  ['Kolkata a minute before closing', 'Asia/Kolkata', 'IN', undefined, BH, '2026-12-02T11:29:00Z', '2026-12-02T16:59+05:30', '2026-12-02T17:00+05:30'],
  ['Kolkata at closing waits for tomorrow', 'Asia/Kolkata', 'IN', undefined, BH, '2026-12-02T11:30:00Z', '2026-12-03T09:00+05:30', '2026-12-03T17:00+05:30'],
  ['Kathmandu +05:45 before opening', 'Asia/Kathmandu', 'NP', undefined, BH, '2026-12-02T03:14:00Z', '2026-12-02T09:00+05:45', '2026-12-02T17:00+05:45'],
  ['Kathmandu Friday evening → Monday', 'Asia/Kathmandu', 'NP', undefined, BH, '2026-12-04T11:15:00Z', '2026-12-07T09:00+05:45', '2026-12-07T17:00+05:45'],
  ['Kathmandu Saturday → Monday', 'Asia/Kathmandu', 'NP', undefined, BH, '2026-12-05T06:00:00Z', '2026-12-07T09:00+05:45', '2026-12-07T17:00+05:45'],
  ['Adelaide summer +10:30 open', 'Australia/Adelaide', 'AU', 'SA', BH, '2026-12-02T00:00:00Z', '2026-12-02T10:30+10:30', '2026-12-02T17:00+10:30'],
  ['Adelaide winter +09:30 open', 'Australia/Adelaide', 'AU', 'SA', BH, '2026-07-01T00:00:00Z', '2026-07-01T09:30+09:30', '2026-07-01T17:00+09:30'],
  ['Adelaide winter before opening', 'Australia/Adelaide', 'AU', 'SA', BH, '2026-07-01T23:00:00Z', '2026-07-02T09:00+09:30', '2026-07-02T17:00+09:30'],
  // US DST, both transitions
  ['New York Friday before spring-forward → Monday in EDT', 'America/New_York', 'US', 'NY', BH, '2026-03-06T22:30:00Z', '2026-03-09T09:00-04:00', '2026-03-09T17:00-04:00'],
  ['New York Monday after spring-forward', 'America/New_York', 'US', 'NY', BH, '2026-03-09T12:30:00Z', '2026-03-09T09:00-04:00', '2026-03-09T17:00-04:00'],
  ['New York Friday before spring-forward open in EST', 'America/New_York', 'US', 'NY', BH, '2026-03-06T14:30:00Z', '2026-03-06T09:30-05:00', '2026-03-06T17:00-05:00'],
  ['New York Friday before fall-back → Monday in EST', 'America/New_York', 'US', 'NY', BH, '2026-10-30T21:30:00Z', '2026-11-02T09:00-05:00', '2026-11-02T17:00-05:00'],
  ['New York Monday after fall-back', 'America/New_York', 'US', undefined, BH, '2026-11-02T13:30:00Z', '2026-11-02T09:00-05:00', '2026-11-02T17:00-05:00'],
  ['Los Angeles on the spring-forward Sunday → Monday PDT', 'America/Los_Angeles', 'US', 'CA', BH, '2026-03-08T17:00:00Z', '2026-03-09T09:00-07:00', '2026-03-09T17:00-07:00'],
  ['Chicago window across the spring gap keeps its wall times', 'America/Chicago', 'US', 'IL', sunday('01:00', '04:00'), '2026-03-08T06:00:00Z', '2026-03-08T01:00-06:00', '2026-03-08T04:00-05:00'],
  ['Chicago window opening inside the spring gap opens at the jump', 'America/Chicago', 'US', 'IL', sunday('02:30', '05:00'), '2026-03-08T06:00:00Z', '2026-03-08T03:00-05:00', '2026-03-08T05:00-05:00'],
  ['Chicago window opening in the repeated autumn hour opens the first time', 'America/Chicago', 'US', 'IL', sunday('01:30', '05:00'), '2026-11-01T05:00:00Z', '2026-11-01T01:30-05:00', '2026-11-01T05:00-06:00'],
  // EU DST, both transitions
  ['Berlin Friday before spring-forward → Monday CEST', 'Europe/Berlin', 'DE', undefined, BH, '2026-03-27T16:30:00Z', '2026-03-30T09:00+02:00', '2026-03-30T17:00+02:00'],
  ['Berlin Monday after spring-forward', 'Europe/Berlin', 'DE', undefined, BH, '2026-03-30T06:30:00Z', '2026-03-30T09:00+02:00', '2026-03-30T17:00+02:00'],
  ['Berlin Friday before fall-back → Monday CET', 'Europe/Berlin', 'DE', undefined, BH, '2026-10-23T15:30:00Z', '2026-10-26T09:00+01:00', '2026-10-26T17:00+01:00'],
  ['London Monday after spring-forward (BST)', 'Europe/London', 'GB', undefined, BH, '2026-03-30T07:59:00Z', '2026-03-30T09:00+01:00', '2026-03-30T17:00+01:00'],
  ['London Monday after fall-back (GMT)', 'Europe/London', 'GB', undefined, BH, '2026-10-26T08:59:00Z', '2026-10-26T09:00+00:00', '2026-10-26T17:00+00:00'],
  ['Berlin window opening inside the spring gap', 'Europe/Berlin', 'DE', undefined, sunday('02:00', '04:00'), '2026-03-29T00:00:00Z', '2026-03-29T03:00+02:00', '2026-03-29T04:00+02:00'],
  ['Paris on the fall-back Sunday → Monday', 'Europe/Paris', 'FR', undefined, BH, '2026-10-25T07:00:00Z', '2026-10-26T09:00+01:00', '2026-10-26T17:00+01:00'],
  // Australia DST, both transitions (with Easter and Labour Day)
  ['Sydney before DST ends: Easter skipped → Tuesday AEST', 'Australia/Sydney', 'AU', 'NSW', BH, '2026-04-02T06:30:00Z', '2026-04-07T09:00+10:00', '2026-04-07T17:00+10:00'],
  ['Sydney DST starts, Labour Day skipped → Tuesday AEDT', 'Australia/Sydney', 'AU', 'NSW', BH, '2026-10-02T07:00:00Z', '2026-10-06T09:00+11:00', '2026-10-06T17:00+11:00'],
  ['Sydney DST starts, holidays not skipped → Monday AEDT', 'Australia/Sydney', 'AU', 'NSW', ALL_DAYS, '2026-10-02T07:00:00Z', '2026-10-05T09:00+11:00', '2026-10-05T17:00+11:00'],
  ['Adelaide DST starts, Labour Day skipped → Tuesday ACDT', 'Australia/Adelaide', 'AU', 'SA', BH, '2026-10-02T07:30:00Z', '2026-10-06T09:00+10:30', '2026-10-06T17:00+10:30'],
  ['Brisbane keeps AEST all year', 'Australia/Brisbane', 'AU', 'QLD', BH, '2026-10-05T22:00:00Z', '2026-10-06T09:00+10:00', '2026-10-06T17:00+10:00'],
  ['Perth +08:00', 'Australia/Perth', 'AU', 'WA', BH, '2026-12-02T00:00:00Z', '2026-12-02T09:00+08:00', '2026-12-02T17:00+08:00'],
  // Chile DST, both transitions (clocks change at midnight)
  ['Santiago DST ends, Good Friday skipped → Monday -04', 'America/Santiago', 'CL', undefined, BH, '2026-04-02T20:30:00Z', '2026-04-06T09:00-04:00', '2026-04-06T17:00-04:00'],
  ['Santiago DST starts → Monday -03', 'America/Santiago', 'CL', undefined, BH, '2026-09-04T21:30:00Z', '2026-09-07T09:00-03:00', '2026-09-07T17:00-03:00'],
  ['Santiago midnight opening skipped by the spring gap', 'America/Santiago', 'CL', undefined, sunday('00:00', '02:00'), '2026-09-05T12:00:00Z', '2026-09-06T01:00-03:00', '2026-09-06T02:00-03:00'],
  ['Santiago Fiestas Patrias skipped', 'America/Santiago', 'CL', undefined, BH, '2026-09-17T21:00:00Z', '2026-09-21T09:00-03:00', '2026-09-21T17:00-03:00'],
  // the date line
  ['Auckland +13 before opening', 'Pacific/Auckland', 'NZ', undefined, BH, '2026-12-01T19:00:00Z', '2026-12-02T09:00+13:00', '2026-12-02T17:00+13:00'],
  ['Auckland Friday evening → Monday (Sunday in UTC)', 'Pacific/Auckland', 'NZ', undefined, BH, '2026-12-04T04:00:00Z', '2026-12-07T09:00+13:00', '2026-12-07T17:00+13:00'],
  ['Auckland DST ends over Easter → Tuesday +12', 'Pacific/Auckland', 'NZ', undefined, BH, '2026-04-02T04:00:00Z', '2026-04-07T09:00+12:00', '2026-04-07T17:00+12:00'],
  ['Auckland DST starts → Monday +13', 'Pacific/Auckland', 'NZ', undefined, BH, '2026-09-25T05:00:00Z', '2026-09-28T09:00+13:00', '2026-09-28T17:00+13:00'],
  ['Kiritimati +14 open at opening', 'Pacific/Kiritimati', 'KI', undefined, BH, '2026-12-01T19:00:00Z', '2026-12-02T09:00+14:00', '2026-12-02T17:00+14:00'],
  ['Kiritimati Friday evening → Monday (Sunday in UTC)', 'Pacific/Kiritimati', 'KI', undefined, BH, '2026-12-04T03:00:00Z', '2026-12-07T09:00+14:00', '2026-12-07T17:00+14:00'],
  ['Kiritimati Monday while UTC is Sunday: open', 'Pacific/Kiritimati', 'KI', undefined, BH, '2026-12-06T20:00:00Z', '2026-12-07T10:00+14:00', '2026-12-07T17:00+14:00'],
  ['Pago Pago -11 open', 'Pacific/Pago_Pago', 'AS', undefined, BH, '2026-12-07T20:00:00Z', '2026-12-07T09:00-11:00', '2026-12-07T17:00-11:00'],
  ['Honolulu a minute before opening', 'Pacific/Honolulu', 'US', 'HI', BH, '2026-12-07T18:59:00Z', '2026-12-07T09:00-10:00', '2026-12-07T17:00-10:00'],
  // Fri–Sat weekends: a Sunday–Thursday window
  ['Riyadh Thursday evening → Sunday', 'Asia/Riyadh', 'SA', undefined, SUN_THU, '2026-12-03T14:00:00Z', '2026-12-06T09:00+03:00', '2026-12-06T17:00+03:00'],
  ['Riyadh Friday → Sunday', 'Asia/Riyadh', 'SA', undefined, SUN_THU, '2026-12-04T08:00:00Z', '2026-12-06T09:00+03:00', '2026-12-06T17:00+03:00'],
  ['Riyadh Sunday is a working day: open', 'Asia/Riyadh', 'SA', undefined, SUN_THU, '2026-12-06T07:00:00Z', '2026-12-06T10:00+03:00', '2026-12-06T17:00+03:00'],
  ['Riyadh with the default Mon–Fri rule: Sunday waits', 'Asia/Riyadh', 'SA', undefined, BH, '2026-12-06T07:00:00Z', '2026-12-07T09:00+03:00', '2026-12-07T17:00+03:00'],
  ['Dubai National Day skipped', 'Asia/Dubai', 'AE', undefined, SUN_THU, '2026-12-02T06:00:00Z', '2026-12-03T09:00+04:00', '2026-12-03T17:00+04:00'],
  ['Riyadh National Day skipped', 'Asia/Riyadh', 'SA', undefined, SUN_THU, '2026-09-23T06:00:00Z', '2026-09-24T09:00+03:00', '2026-09-24T17:00+03:00'],
  // US public holidays (federal, and state where known)
  ['New York: Independence Day observed on Friday', 'America/New_York', 'US', 'NY', BH, '2026-07-02T21:00:00Z', '2026-07-06T09:00-04:00', '2026-07-06T17:00-04:00'],
  ['New York: Thanksgiving skipped, Friday is a working day', 'America/New_York', 'US', undefined, BH, '2026-11-26T15:00:00Z', '2026-11-27T09:00-05:00', '2026-11-27T17:00-05:00'],
  ['California: the day after Thanksgiving is a state holiday', 'America/Los_Angeles', 'US', 'CA', BH, '2026-11-26T17:00:00Z', '2026-11-30T09:00-08:00', '2026-11-30T17:00-08:00'],
  ['California: César Chávez Day skipped', 'America/Los_Angeles', 'US', 'California', BH, '2026-03-31T16:00:00Z', '2026-04-01T09:00-07:00', '2026-04-01T17:00-07:00'],
  ['New York works on César Chávez Day', 'America/New_York', 'US', 'NY', BH, '2026-03-31T13:00:00Z', '2026-03-31T09:00-04:00', '2026-03-31T17:00-04:00'],
  ['US Christmas on a Friday → Monday', 'America/New_York', 'USA', undefined, BH, '2026-12-24T22:00:00Z', '2026-12-28T09:00-05:00', '2026-12-28T17:00-05:00'],
  ['US New Year across the year boundary', 'America/New_York', 'United States', undefined, BH, '2026-12-31T22:00:00Z', '2027-01-04T09:00-05:00', '2027-01-04T17:00-05:00'],
  // Indian public holidays
  ['India Republic Day skipped', 'Asia/Kolkata', 'IN', undefined, BH, '2026-01-26T04:00:00Z', '2026-01-27T09:00+05:30', '2026-01-27T17:00+05:30'],
  ['India Gandhi Jayanti (Friday) → Monday', 'Asia/Kolkata', 'IND', undefined, BH, '2026-10-01T11:30:00Z', '2026-10-05T09:00+05:30', '2026-10-05T17:00+05:30'],
  ['India Ambedkar Jayanti skipped', 'Asia/Kolkata', 'India', undefined, BH, '2026-04-14T05:00:00Z', '2026-04-15T09:00+05:30', '2026-04-15T17:00+05:30'],
  ['India Republic Day when holidays are not skipped: open', 'Asia/Kolkata', 'IN', undefined, ALL_DAYS, '2026-01-26T04:00:00Z', '2026-01-26T09:30+05:30', '2026-01-26T17:00+05:30'],
  // states of multi-zone countries
  ['Adelaide Cup Day (South Australia only) skipped', 'Australia/Adelaide', 'AU', 'SA', BH, '2026-03-08T22:00:00Z', '2026-03-10T09:00+10:30', '2026-03-10T17:00+10:30'],
  ['Sydney works on Adelaide Cup Day', 'Australia/Sydney', 'AU', 'New South Wales', BH, '2026-03-08T22:00:00Z', '2026-03-09T09:00+11:00', '2026-03-09T17:00+11:00'],
  ['Bavaria: Epiphany skipped', 'Europe/Berlin', 'DE', 'BY', BH, '2026-01-06T08:00:00Z', '2026-01-07T09:00+01:00', '2026-01-07T17:00+01:00'],
  ['Berlin works on Epiphany', 'Europe/Berlin', 'DE', undefined, BH, '2026-01-06T08:00:00Z', '2026-01-06T09:00+01:00', '2026-01-06T17:00+01:00'],
  ['South Australia: Christmas Eve holiday starts 19:00, the business day is open', 'Australia/Adelaide', 'AU', 'SA', BH, '2026-12-23T22:30:00Z', '2026-12-24T09:00+10:30', '2026-12-24T17:00+10:30'],
  ['Vancouver (BC) window in Pacific time', 'America/Vancouver', 'CA', 'BC', BH, '2026-07-02T15:00:00Z', '2026-07-02T09:00-07:00', '2026-07-02T17:00-07:00'],
  ['Canada Day skipped in British Columbia', 'America/Vancouver', 'CAN', 'British Columbia', BH, '2026-07-01T15:00:00Z', '2026-07-02T09:00-07:00', '2026-07-02T17:00-07:00'],
  // unknown and malformed countries: no holidays, the zone still counts
  ['unknown country: Christmas is a working day', 'Europe/Berlin', 'Atlantis', undefined, BH, '2026-12-25T08:00:00Z', '2026-12-25T09:00+01:00', '2026-12-25T17:00+01:00'],
  ['empty country: no holidays', 'Europe/Berlin', '', undefined, BH, '2026-12-25T08:00:00Z', '2026-12-25T09:00+01:00', '2026-12-25T17:00+01:00'],
  ['malformed country "??": no holidays', 'Europe/Berlin', '??', undefined, BH, '2026-12-25T08:00:00Z', '2026-12-25T09:00+01:00', '2026-12-25T17:00+01:00'],
  ['alpha-3 country: Christmas skipped', 'Europe/Berlin', 'DEU', undefined, BH, '2026-12-25T08:00:00Z', '2026-12-28T09:00+01:00', '2026-12-28T17:00+01:00'],
  ['English name, any case: Christmas skipped', 'Europe/Berlin', 'germany', undefined, BH, '2026-12-25T08:00:00Z', '2026-12-28T09:00+01:00', '2026-12-28T17:00+01:00'],
  ['unknown state falls back to the country', 'Europe/Berlin', 'DE', 'Narnia', BH, '2026-01-06T08:00:00Z', '2026-01-06T09:00+01:00', '2026-01-06T17:00+01:00'],
];

test('the table has at least 60 cases', () => {
  expect(rows.length).toBeGreaterThanOrEqual(60);
});

describe.each(rows)('%s', (_label, zone, country, state, rule, from, sendAt, end) => {
  test(`${zone} at ${from}`, () => {
    const recipient = { timezone: zone, country, state };
    const next = nextSendingWindow(recipient, rule, new Date(from));
    expect(next).toBeDefined();
    expect(next!.sendAt.toISOString()).toBe(new Date(sendAt).toISOString());
    expect(next!.windowEnd.toISOString()).toBe(new Date(end).toISOString());

    const [first] = upcomingWindows(recipient, rule, new Date(from), 1);
    expect(first!.end.toISOString()).toBe(new Date(end).toISOString());
    expect(first!.start.getTime()).toBeLessThanOrEqual(next!.sendAt.getTime());
    if (first!.start.getTime() < new Date(from).getTime()) expect(next!.sendAt.toISOString()).toBe(new Date(from).toISOString());
  });
});

test('upcoming windows are consecutive open days, each inside its own local day', () => {
  const windows = upcomingWindows({ timezone: 'America/New_York', country: 'US' }, BH, new Date('2026-11-20T12:00:00Z'), 6);
  expect(windows.map((w) => w.start.toISOString())).toEqual([
    '2026-11-20T14:00:00.000Z', // Fri
    '2026-11-23T14:00:00.000Z', // Mon
    '2026-11-24T14:00:00.000Z',
    '2026-11-25T14:00:00.000Z', // Thanksgiving (Thu 26) skipped
    '2026-11-27T14:00:00.000Z',
    '2026-11-30T14:00:00.000Z',
  ]);
});

test('a rule that never opens has no window; a malformed rule or zone is refused', () => {
  const christmasOnly: SendingRule = { days: ['fri'], start: '09:00', end: '17:00', skipHolidays: true };
  expect(upcomingWindows({ timezone: 'Europe/Berlin', country: 'DE' }, christmasOnly, new Date('2026-12-01T00:00:00Z'), 2)).toHaveLength(2);
  expect(() => upcomingWindows({ timezone: 'Mars/Olympus', country: 'DE' }, BH, new Date(), 1)).toThrow(RangeError);
  expect(() => upcomingWindows({ timezone: 'UTC' }, { ...BH, days: ['funday'] }, new Date(), 1)).toThrow(RangeError);
  expect(() => upcomingWindows({ timezone: 'UTC' }, { ...BH, start: '17:00', end: '09:00' }, new Date(), 1)).toThrow(RangeError);
  expect(() => upcomingWindows({ timezone: 'UTC' }, { ...BH, start: '9am' }, new Date(), 1)).toThrow(RangeError);
  expect(upcomingWindows({ timezone: 'UTC' }, { ...BH, days: [] }, new Date(), 3)).toEqual([]);
});
