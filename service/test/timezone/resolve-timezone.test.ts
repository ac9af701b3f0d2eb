import { normalizeCountry } from '../../src/timezone/countries';
import { resolveRecipientTimezone, type LeadLocation } from '../../src/timezone/resolve-timezone';
import { localTimeIso } from '../../src/timezone/zone-clock';

type Row = [label: string, lead: LeadLocation, zone: string, source: string];

const rows: Row[] = [
  ['a valid IANA zone on the lead wins', { timezone: 'Asia/Kathmandu', country: 'US', state: 'CA' }, 'Asia/Kathmandu', 'lead'],
  ['an invalid zone on the lead is ignored', { timezone: 'Mars/Olympus', country: 'IN' }, 'Asia/Kolkata', 'country'],
  ['an offset is not a zone', { timezone: '+05:30', country: 'DE' }, 'Europe/Berlin', 'country'],
  ['US state by postal code', { country: 'US', state: 'CA' }, 'America/Los_Angeles', 'state'],
  ['US state by name, any case', { country: 'usa', state: 'texas' }, 'America/Chicago', 'state'],
  ['US state Arizona (no DST zone)', { country: 'US', state: 'Arizona' }, 'America/Phoenix', 'state'],
  ['US state Hawaii', { country: 'United States', state: 'HI' }, 'Pacific/Honolulu', 'state'],
  ['Australian state by code', { country: 'AU', state: 'WA' }, 'Australia/Perth', 'state'],
  ['Australian state by name', { country: 'Australia', state: 'South Australia' }, 'Australia/Adelaide', 'state'],
  ['Canadian province by code', { country: 'CA', state: 'BC' }, 'America/Vancouver', 'state'],
  ['Canadian province with accents', { country: 'CAN', state: 'Québec' }, 'America/Toronto', 'state'],
  ['Brazilian state', { country: 'BR', state: 'Amazonas' }, 'America/Manaus', 'state'],
  ['Russian region', { country: 'RU', state: 'Primor\'ye' }, 'Asia/Vladivostok', 'state'],
  ['unknown state falls through to the city', { country: 'US', state: 'Narnia', city: 'Denver' }, 'America/Denver', 'city'],
  ['city filtered by country (Perth, Australia)', { country: 'AU', city: 'Perth' }, 'Australia/Perth', 'city'],
  ['city filtered by country (Vancouver, Canada)', { country: 'CA', city: 'Vancouver' }, 'America/Vancouver', 'city'],
  ['an unambiguous city without a country', { city: 'Adelaide' }, 'Australia/Adelaide', 'city'],
  ['an ambiguous city without a country falls back to the sender', { city: 'Springfield' }, 'Europe/Paris', 'sender'],
  ['a single-zone country', { country: 'IN' }, 'Asia/Kolkata', 'country'],
  ['a country whose zones keep one time (Germany, Büsingen)', { country: 'DE' }, 'Europe/Berlin', 'country'],
  ['a Fri–Sat weekend country', { country: 'Saudi Arabia' }, 'Asia/Riyadh', 'country'],
  ['US default: most populous zone', { country: 'US' }, 'America/New_York', 'country_default'],
  ['Canada default', { country: 'CA' }, 'America/Toronto', 'country_default'],
  ['Australia default', { country: 'AU' }, 'Australia/Sydney', 'country_default'],
  ['Brazil default', { country: 'BR' }, 'America/Sao_Paulo', 'country_default'],
  ['Russia default', { country: 'RU' }, 'Europe/Moscow', 'country_default'],
  ['Mexico default', { country: 'MX' }, 'America/Mexico_City', 'country_default'],
  ['Indonesia default', { country: 'ID' }, 'Asia/Jakarta', 'country_default'],
  ['Kazakhstan keeps one time since 2024', { country: 'KZ' }, 'Asia/Almaty', 'country'],
  // city-timezones does not list Kiritimati: the country's most populous zone, Tarawa (+12), is the honest answer
  ['a city the data does not know: the country default', { country: 'KI', city: 'Kiritimati' }, 'Pacific/Tarawa', 'country_default'],
  ['Kiritimati given as a zone', { country: 'KI', timezone: 'Pacific/Kiritimati' }, 'Pacific/Kiritimati', 'lead'],
  ['unknown country falls back to the sender', { country: 'Atlantis' }, 'Europe/Paris', 'sender'],
  ['malformed country falls back to the sender', { country: '12#' }, 'Europe/Paris', 'sender'],
  ['nothing at all: the sender zone', {}, 'Europe/Paris', 'sender'],
];

describe.each(rows)('%s', (_label, lead, zone, source) => {
  test(`→ ${zone} (${source})`, () => {
    expect(resolveRecipientTimezone(lead, 'Europe/Paris')).toEqual({ zone, source });
  });
});

test('answers are cached: the same input gives the same object', () => {
  const a = resolveRecipientTimezone({ country: 'US', state: 'NY' }, 'UTC');
  expect(resolveRecipientTimezone({ country: 'US', state: 'NY' }, 'UTC')).toBe(a);
});

test.each([
  ['US', 'US'],
  ['usa', 'US'],
  ['U.S.A.', 'US'],
  ['United States of America', 'US'],
  ['DEU', 'DE'],
  ['gbr', 'GB'],
  ['UK', 'GB'],
  ['Korea, Republic of', 'KR'],
  ['Republic of Korea', 'KR'],
  ['Türkiye', 'TR'],
  ['Turkey', 'TR'],
  ["Côte d'Ivoire", 'CI'],
  ['Ivory Coast', 'CI'],
  ['The Netherlands', 'NL'],
  ['Russian Federation', 'RU'],
  ['  new   zealand ', 'NZ'],
])('normalizeCountry(%j) = %s', (input, iso) => {
  expect(normalizeCountry(input)).toBe(iso);
});

test.each(['Atlantis', '', 'XX', 'U', '12#'])('normalizeCountry(%j) is undefined', (input) => {
  expect(normalizeCountry(input)).toBeUndefined();
});

test.each([
  ['2026-12-02T15:00:00.999Z', 'America/New_York', '2026-12-02T10:00:00-05:00'],
  ['2026-12-02T15:00:00Z', 'Asia/Kathmandu', '2026-12-02T20:45:00+05:45'],
  ['2026-12-02T15:00:00Z', 'Pacific/Chatham', '2026-12-03T04:45:00+13:45'],
  ['2026-12-02T15:00:00Z', 'Pacific/Marquesas', '2026-12-02T05:30:00-09:30'],
  ['2026-12-02T15:00:00Z', 'Pacific/Kiritimati', '2026-12-03T05:00:00+14:00'],
  ['2026-12-02T15:00:00Z', 'UTC', '2026-12-02T15:00:00+00:00'],
])('localTimeIso(%s, %s) = %s', (at, zone, expected) => {
  expect(localTimeIso(Date.parse(at), zone)).toBe(expected);
});
