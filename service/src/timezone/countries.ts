import ct from 'countries-and-timezones';

// Country names as people and Apollo write them → ISO 3166-1 alpha-2.
const byKey = new Map<string, string>();
for (const country of Object.values(ct.getAllCountries())) {
  byKey.set(country.id.toLowerCase(), country.id);
  byKey.set(simplify(country.name), country.id);
}
const ALIASES: Record<string, string> = {
  'united states': 'US',
  usa: 'US',
  'u.s.': 'US',
  'u.s.a.': 'US',
  america: 'US',
  uk: 'GB',
  'great britain': 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  korea: 'KR',
  'republic of korea': 'KR',
  russia: 'RU',
  'russian federation': 'RU',
  czechia: 'CZ',
  'czech republic': 'CZ',
  uae: 'AE',
  vietnam: 'VN',
  'viet nam': 'VN',
  turkey: 'TR',
  turkiye: 'TR',
  türkiye: 'TR',
  holland: 'NL',
  'the netherlands': 'NL',
};
for (const [alias, id] of Object.entries(ALIASES)) byKey.set(simplify(alias), id);

function simplify(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** ISO alpha-2 for a code or an English name; undefined when unknown. */
export function normalizeCountry(input: string): string | undefined {
  return byKey.get(simplify(input));
}
