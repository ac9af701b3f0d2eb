// The languages an email can be written in, and which one a recipient gets.
// Each carries what the service writes itself (sign-off, unsubscribe footer);
// the AI writes the rest in the language it is told.

export interface Language {
  code: LanguageCode;
  /** The English name, as the model is told it. */
  name: string;
  /** The usual short greeting before a first name (the prompt's example). */
  greeting: string;
  signOff: string;
  notInterested: string;
  unsubscribe: string;
  /** The footer's link text to the sender's privacy notice (GDPR Art. 14). */
  privacyNotice: string;
}

export const LANGUAGE_CODES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt', 'pl', 'sv', 'da'] as const;
export type LanguageCode = (typeof LANGUAGE_CODES)[number];

export const LANGUAGES: Record<LanguageCode, Language> = {
  en: { code: 'en', name: 'English', greeting: 'Hi', signOff: 'Best regards,', notInterested: 'Not interested?', unsubscribe: 'Unsubscribe', privacyNotice: 'How we got your address, and your rights' },
  de: { code: 'de', name: 'German', greeting: 'Hallo', signOff: 'Viele Grüße', notInterested: 'Kein Interesse?', unsubscribe: 'Abmelden', privacyNotice: 'Woher wir Ihre Adresse haben und Ihre Rechte' },
  fr: { code: 'fr', name: 'French', greeting: 'Bonjour', signOff: 'Cordialement,', notInterested: 'Pas intéressé ?', unsubscribe: 'Se désinscrire', privacyNotice: "D'où viennent vos coordonnées et vos droits" },
  es: { code: 'es', name: 'Spanish', greeting: 'Hola', signOff: 'Saludos cordiales,', notInterested: '¿No le interesa?', unsubscribe: 'Darse de baja', privacyNotice: 'De dónde obtuvimos su dirección y sus derechos' },
  it: { code: 'it', name: 'Italian', greeting: 'Buongiorno', signOff: 'Cordiali saluti,', notInterested: 'Non le interessa?', unsubscribe: "Annulla l'iscrizione", privacyNotice: 'Da dove abbiamo il suo indirizzo e i suoi diritti' },
  nl: { code: 'nl', name: 'Dutch', greeting: 'Hallo', signOff: 'Met vriendelijke groet,', notInterested: 'Geen interesse?', unsubscribe: 'Afmelden', privacyNotice: 'Waar we uw adres vandaan hebben en uw rechten' },
  pt: { code: 'pt', name: 'Portuguese', greeting: 'Olá', signOff: 'Atenciosamente,', notInterested: 'Não tem interesse?', unsubscribe: 'Cancelar inscrição', privacyNotice: 'De onde obtivemos o seu endereço e os seus direitos' },
  pl: { code: 'pl', name: 'Polish', greeting: 'Dzień dobry', signOff: 'Z poważaniem,', notInterested: 'Nie jest to dla Państwa?', unsubscribe: 'Wypisz się', privacyNotice: 'Skąd mamy Państwa adres i jakie mają Państwo prawa' },
  sv: { code: 'sv', name: 'Swedish', greeting: 'Hej', signOff: 'Med vänliga hälsningar,', notInterested: 'Inte intresserad?', unsubscribe: 'Avregistrera', privacyNotice: 'Var vi fick din adress och dina rättigheter' },
  da: { code: 'da', name: 'Danish', greeting: 'Hej', signOff: 'Med venlig hilsen,', notInterested: 'Ikke interesseret?', unsubscribe: 'Afmeld', privacyNotice: 'Hvor vi har din adresse fra, og dine rettigheder' },
};

/** The language of business correspondence by ISO 3166 alpha-2 country; anything else is English. */
const BY_COUNTRY: Record<string, LanguageCode> = {
  DE: 'de', AT: 'de', CH: 'de', LI: 'de',
  FR: 'fr', BE: 'fr', LU: 'fr', MC: 'fr',
  ES: 'es', MX: 'es', AR: 'es', CO: 'es', CL: 'es', PE: 'es', VE: 'es', EC: 'es', GT: 'es', CU: 'es',
  BO: 'es', DO: 'es', HN: 'es', PY: 'es', SV: 'es', NI: 'es', CR: 'es', PA: 'es', UY: 'es',
  IT: 'it', SM: 'it', VA: 'it',
  NL: 'nl',
  PT: 'pt', BR: 'pt', AO: 'pt', MZ: 'pt',
  PL: 'pl',
  SE: 'sv',
  DK: 'da',
};

// Countries of several languages: the region decides where the lead says it
// (Apollo gives the state/canton/province and the city).
const REGIONAL: Record<string, { language: LanguageCode; places: string[] }[]> = {
  CH: [
    { language: 'fr', places: ['geneve', 'geneva', 'genf', 'lausanne', 'vaud', 'neuchatel', 'jura', 'fribourg', 'sion', 'valais', 'montreux', 'nyon', 'yverdon'] },
    { language: 'it', places: ['ticino', 'tessin', 'lugano', 'bellinzona', 'locarno', 'mendrisio'] },
  ],
  BE: [
    {
      language: 'nl',
      places: ['flanders', 'vlaanderen', 'flemish', 'antwerp', 'antwerpen', 'ghent', 'gent', 'bruges', 'brugge', 'leuven', 'mechelen', 'hasselt', 'kortrijk', 'aalst', 'genk', 'ostend', 'oostende', 'limburg', 'sint-niklaas', 'roeselare'],
    },
  ],
  CA: [{ language: 'fr', places: ['quebec', 'qc', 'montreal', 'laval', 'gatineau', 'sherbrooke', 'trois-rivieres'] }],
};

/** A sender's setting: one fixed language, or the recipient's. */
export type LanguageSetting = LanguageCode | 'recipient';

export function isLanguageSetting(v: string): v is LanguageSetting {
  return v === 'recipient' || (LANGUAGE_CODES as readonly string[]).includes(v);
}

function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .trim();
}

/** The language a lead is written to under the sender's setting. */
export function languageFor(
  setting: string | null | undefined,
  lead: { country?: string | null; state?: string | null; city?: string | null },
): Language {
  if (setting && setting !== 'recipient' && isLanguageSetting(setting)) return LANGUAGES[setting as LanguageCode];
  if (setting !== 'recipient') return LANGUAGES.en;
  const country = (lead.country ?? '').trim().toUpperCase();
  const places = [lead.state, lead.city].filter((p): p is string => !!p).map(fold);
  for (const region of REGIONAL[country] ?? []) {
    if (places.some((p) => region.places.includes(p))) return LANGUAGES[region.language];
  }
  return LANGUAGES[BY_COUNTRY[country] ?? 'en'];
}
