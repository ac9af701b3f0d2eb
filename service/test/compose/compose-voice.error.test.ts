// Bad input to the profile and preview endpoints: a problem with a stable code,
// and nothing written.
import { importLeads, promptData, startComposeWorld, type ComposeWorld } from './compose-fixture';

let w: ComposeWorld;
beforeAll(async () => {
  w = await startComposeWorld();
  await w.svc.api('PUT', '/v1/senders/default/profile', { companyName: 'Ledgerly', offer: 'Accounting software for manufacturers.' });
});
afterAll(async () => w?.stop());
beforeEach(() => w.openai.setFaults([]));

const profile = async (sender = 'default') => (await w.svc.api('GET', `/v1/senders/${sender}/profile`)).body;

test('a profile for an unknown sender is 404 sender_not_found and creates nothing', async () => {
  const r = await w.svc.api('PUT', '/v1/senders/ghost/profile', { companyName: 'Ghost Inc' });
  expect(r.status).toBe(404);
  expect(r.body.code).toBe('sender_not_found');
  expect((await w.svc.api('GET', '/v1/senders/ghost/profile')).status).toBe(404);
  expect((await w.svc.api('GET', '/v1/senders')).body.senders.map((s: { id: string }) => s.id)).not.toContain('ghost');
});

test.each([
  ['an unknown language', { language: 'klingon' }, 'language'],
  ['an empty company name', { companyName: '' }, 'companyName'],
  ['phrases to avoid as one string', { avoidPhrases: 'synergy' }, 'avoidPhrases'],
  ['an offer of 2001 characters', { offer: 'x'.repeat(2001) }, 'offer'],
  ['an unknown field', { companyName: 'Fine', colour: 'blue' }, '(body)'],
])('a profile with %s is 400 validation_failed naming the field, and nothing changes', async (_label, body, field) => {
  const before = await profile();
  const r = await w.svc.api('PUT', '/v1/senders/default/profile', body);
  expect(r.status).toBe(400);
  expect(r.body.code).toBe('validation_failed');
  expect(JSON.stringify(r.body.errors)).toContain(field === '(body)' ? 'colour' : field);
  expect(await profile()).toEqual(before);
});

test.each([
  [{ leadId: '1', lead: { firstName: 'Ann' } }],
  [{ sender: 'default' }],
  [{ lead: { firstName: 'Ann', email: 'ann@x.test' } }],
  [{ lead: { country: 'Atlantis' } }],
])('a preview request %j that does not name exactly one valid lead is 400 validation_failed', async (body) => {
  const requests = w.openai.state.requests.length;
  const r = await w.svc.api('POST', '/v1/compose/preview', body);
  expect(r.status).toBe(400);
  expect(r.body.code).toBe('validation_failed');
  expect(w.openai.state.requests.length).toBe(requests);
});

test('a preview of an unknown lead or sender is 404', async () => {
  const lead = await w.svc.api('POST', '/v1/compose/preview', { leadId: '987654' });
  expect(lead.status).toBe(404);
  expect(lead.body.code).toBe('lead_not_found');
  const sender = await w.svc.api('POST', '/v1/compose/preview', { sender: 'ghost', lead: { firstName: 'Ann' } });
  expect(sender.status).toBe(404);
  expect(sender.body.code).toBe('sender_not_found');
});

test('a preview the AI gets wrong twice is 422 draft_rejected and leaves the lead as it was', async () => {
  const [id] = await importLeads(w.svc, [{ email: 'pia@oil.test', firstName: 'Pia', industry: 'Lubricants' }]);
  w.openai.setFaults([{ fault: { kind: 'bad_draft', flaw: 'placeholder' } }]);
  const r = await w.svc.api('POST', '/v1/compose/preview', { leadId: id });
  expect(r.status).toBe(422);
  expect(r.body).toMatchObject({ code: 'draft_rejected', detail: expect.stringMatching(/placeholder "\[Your Name\]"/) });
  const lead = (await w.svc.api('GET', `/v1/leads/${id}`)).body;
  expect(lead.status).toBe('new');
  expect(lead.statusReason).toBeNull();
  expect((await w.svc.api('GET', '/v1/stats')).body.compose.rejected).toBe(0);
});

test('profile fields tried in a preview reach the prompt and are not stored', async () => {
  const before = await profile();
  const r = await w.svc.api('POST', '/v1/compose/preview', {
    lead: { firstName: 'Jo', companyName: 'Brewhouse', industry: 'Hospitality' },
    profile: { companyName: 'Hopfen & Co', tone: 'cheeky', language: 'de', signature: null },
  });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ language: 'de', source: 'generic' });
  expect(r.body.text).toMatch(/^Hallo Jo,/);
  const q = w.openai.state.requests.at(-1)!;
  expect(promptData(q.user).lead.firstName).toBe('Jo');
  expect(q.system).toContain('Name: Hopfen & Co');
  expect(q.system).toContain('What we sell: Accounting software for manufacturers.');
  expect(q.system).toContain('Tone: cheeky');
  expect(await profile()).toEqual(before);
});
