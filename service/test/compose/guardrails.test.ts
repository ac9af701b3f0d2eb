// The checks on what the AI wrote, in every language the composer writes, and
// which language a recipient gets.
import { languageFor } from '../../src/compose/language';
import { draftProblem, type DraftOutput } from '../../src/compose/prompt';

const draft = (body: string, subject = 'A short subject'): DraftOutput => ({ subject, body, productId: null, companySummary: null });
const check = (body: string, lead: { firstName?: string; lastName?: string } = { firstName: 'Anna', lastName: 'Schmidt' }) =>
  draftProblem(draft(body), lead, body.length, 2000);

test.each([
  'Hallo Anna,\n\nwir liefern Additive.',
  'Bonjour Anna,\n\nnous fournissons des additifs.',
  'Hola Anna,\n\nsuministramos aditivos.',
  'Ciao Anna,\n\nforniamo additivi.',
  'Hej Anna,\n\nvi levererar tillsatser.',
  'Dzień dobry Anna,\n\ndostarczamy dodatki.',
  'Guten Tag Frau Schmidt,\n\nwir liefern Additive.',
])('a greeting in any language that names the recipient is right: %j', (body) => {
  expect(check(body)).toBeUndefined();
});

test('names match without their accents and case', () => {
  expect(check('Hola María,\n\nle escribo por los aditivos.', { firstName: 'Maria' })).toBeUndefined();
  expect(check('Hallo JÜRGEN,\n\nwir liefern Additive.', { firstName: 'Jürgen' })).toBeUndefined();
});

test.each([
  'Hallo Alexandra,\n\nwir liefern Additive.',
  'Bonjour Marie,\n\nnous fournissons des additifs.',
  'Guten Tag,\n\nwir liefern Additive.',
])('a greeting with another name, or none, is caught: %j', (body) => {
  expect(check(body)).toMatch(/does not use the recipient's first name "Anna"/);
});

test.each([
  ['Hallo Anna,\n\nMit freundlichen Grüßen,\n[Ihr Name]', '[Ihr Name]'],
  ['Bonjour Anna,\n\nCordialement,\n[Votre nom]', '[Votre nom]'],
  ['Hallo Anna,\n\nwir haben {{Firmenname}} gesehen.', '{{Firmenname}}'],
  ['Hola Anna,\n\nvimos {empresa} en la feria.', '{empresa}'],
  ['Hallo <Vorname>,\n\nwir liefern Additive an Anna.', '<Vorname>'],
  ['Bonjour Anna,\n\nj’ai vu <prénom> à Lyon.', '<prénom>'],
  ['Hi Anna,\n\nwe met %COMPANY_NAME% at the fair.', '%COMPANY_NAME%'],
  ['Hi Anna,\n\nyour team at XXX would like this.', 'XXX'],
])('placeholders in any language are caught: %j', (body, placeholder) => {
  expect(check(body)).toBe(`the draft contains the unresolved placeholder "${placeholder}"`);
});

test("the recipient's language comes from the country, and the region where a country speaks several", () => {
  const code = (setting: string | null, lead: { country?: string; state?: string; city?: string }) => languageFor(setting, lead).code;
  expect(code('recipient', { country: 'DE' })).toBe('de');
  expect(code('recipient', { country: 'AT' })).toBe('de');
  expect(code('recipient', { country: 'CH', city: 'Zürich' })).toBe('de');
  expect(code('recipient', { country: 'CH', city: 'Genève' })).toBe('fr');
  expect(code('recipient', { country: 'CH', state: 'Ticino' })).toBe('it');
  expect(code('recipient', { country: 'FR' })).toBe('fr');
  expect(code('recipient', { country: 'BE', city: 'Liège' })).toBe('fr');
  expect(code('recipient', { country: 'BE', city: 'Antwerpen' })).toBe('nl');
  expect(code('recipient', { country: 'ES' })).toBe('es');
  expect(code('recipient', { country: 'MX' })).toBe('es');
  expect(code('recipient', { country: 'CA', state: 'Quebec' })).toBe('fr');
  expect(code('recipient', { country: 'CA', state: 'Ontario' })).toBe('en');
  expect(code('recipient', { country: 'JP' })).toBe('en');
  expect(code('recipient', {})).toBe('en');
  // a fixed language wins over the country; no setting is English
  expect(code('de', { country: 'US' })).toBe('de');
  expect(code(null, { country: 'DE' })).toBe('en');
});
