import ct from 'countries-and-timezones';
import isoCountries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json';

// Country as people and Apollo write it → ISO 3166-1 alpha-2. Sources, in order:
// i18n-iso-countries (alpha-2, alpha-3 and its English names with their official
// variants: "Korea, Republic of", "Russian Federation", "Türkiye"…),
// countries-and-timezones' names, then the few colloquial names neither package knows.
const byKey = new Map<string, string>();
isoCountries.registerLocale(en);
for (const [alpha2, names] of Object.entries(en.countries as Record<string, string | string[]>)) {
  byKey.set(simplify(alpha2), alpha2);
  const alpha3 = isoCountries.alpha2ToAlpha3(alpha2);
  if (alpha3) byKey.set(simplify(alpha3), alpha2);
  for (const name of Array.isArray(names) ? names : [names]) addName(name, alpha2);
}
for (const country of Object.values(ct.getAllCountries())) {
  if (!byKey.has(simplify(country.id))) byKey.set(simplify(country.id), country.id);
  addName(country.name, country.id);
}
const COLLOQUIAL: Record<string, string> = {
  america: 'US',
  'united states of america (usa)': 'US',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  britain: 'GB',
  korea: 'KR',
  uae: 'AE',
  emirates: 'AE',
  holland: 'NL',
  'ivory coast': 'CI',
  'czech rep': 'CZ',
  'viet nam': 'VN',
  burma: 'MM',
  'hong kong sar': 'HK',
  'macau sar': 'MO',
  'the bahamas': 'BS',
  'the gambia': 'GM',
};
for (const [alias, id] of Object.entries(COLLOQUIAL)) addName(alias, id);

function addName(name: string, id: string): void {
  const key = simplify(name);
  if (!byKey.has(key)) byKey.set(key, id);
  // "Korea, Republic of" is also written "Republic of Korea"; "The Netherlands" as "Netherlands".
  const comma = /^(.+), (.+)$/.exec(key);
  if (comma && !byKey.has(`${comma[2]} ${comma[1]}`)) byKey.set(`${comma[2]} ${comma[1]}`, id);
  const the = /^the (.+)$/.exec(key);
  if (the && !byKey.has(the[1]!)) byKey.set(the[1]!, id);
  else if (!the && !byKey.has(`the ${key}`)) byKey.set(`the ${key}`, id);
}

/** Lower case, accents and dots dropped, "&" as "and", spaces collapsed: "U.S.A." → "usa". */
function simplify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/\./g, '')
    .replace(/[\s_-]+/g, ' ')
    .trim();
}

/** ISO alpha-2 for an alpha-2 or alpha-3 code or an English name; undefined when unknown. */
export function normalizeCountry(input: string): string | undefined {
  return byKey.get(simplify(input));
}
