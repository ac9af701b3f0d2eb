// Compliance by default: compose refuses a sender without a name or a postal
// address (on PGlite and Postgres alike: the rule is SQL), the footer carries
// the address and the privacy notice, every lead says where its data came from
// and when, and retention removes exactly the texts older than its days.
import { runSweep } from '../../src/sweeper/sweeper';
import { importLeads, startComposeWorld, type ComposeWorld } from '../compose/compose-fixture';
import { rawSql } from '../support/sends-fixture';

let w: ComposeWorld;
beforeAll(async () => {
  w = await startComposeWorld();
}, 240_000);
afterAll(async () => w?.stop());

test('compose refuses a sender with no fromName or no postal address: 409 sender_incomplete naming what is missing', async () => {
  const { svc } = w;
  const [id] = await importLeads(svc, [{ email: 'olga@refusal.example', firstName: 'Olga', industry: 'Lubricants' }]);
  await svc.api('PUT', '/v1/senders/bare', { dailyQuota: 10 });
  const bare = await svc.api('POST', '/v1/compose', { leadIds: [id], sender: 'bare' });
  expect(bare.status).toBe(409);
  expect(bare.headers.get('content-type')).toContain('application/problem+json');
  expect(bare.body.code).toBe('sender_incomplete');
  expect(bare.body.detail).toContain('Sender "bare" has no fromName and no postalAddress');
  expect(bare.body.detail).toContain('PUT /v1/senders/{id}');

  await svc.api('PUT', '/v1/senders/bare', { fromName: 'Bo Bare' });
  const half = await svc.api('POST', '/v1/compose', { leadIds: [id], sender: 'bare' });
  expect(half.status).toBe(409);
  expect(half.body.detail).toContain('has no postalAddress');
  expect(half.body.detail).not.toContain('fromName');
  // the preview obeys the same rule
  const preview = await svc.api('POST', '/v1/compose/preview', { sender: 'bare', lead: { firstName: 'Olga', industry: 'Lubricants' } });
  expect(preview.status).toBe(409);
  expect(preview.body.code).toBe('sender_incomplete');
  // nothing was asked of the AI for a refused sender
  const completions = w.openai.state.completions;
  await svc.api('PUT', '/v1/senders/bare', { postalAddress: '2 Quay Street, Cork, IE', privacyNoticeUrl: 'https://bare.example/privacy' });
  expect(completions).toBe(w.openai.state.completions);
  const ok = await svc.api('POST', '/v1/compose', { leadIds: [id], sender: 'bare' });
  expect(ok.status).toBe(200);
  const [email] = ok.body.emails;
  expect(email.text).toContain('Bo Bare, 2 Quay Street, Cork, IE');
  expect(email.text).toContain('How we got your address, and your rights: https://bare.example/privacy');
  expect(email.html).toContain('<a href="https://bare.example/privacy">How we got your address, and your rights</a>');
});

test('the privacy notice link is in the lead’s language, and only where the sender has one', async () => {
  const { svc } = w;
  await svc.api('PUT', '/v1/senders/dach', { fromName: 'Lena Berg', postalAddress: 'Hafenstr. 2, Hamburg', privacyNoticeUrl: 'https://berg.example/datenschutz' });
  expect((await svc.api('PUT', '/v1/senders/dach/profile', { language: 'recipient' })).status).toBe(200);
  const [de, us] = await importLeads(svc, [
    { email: 'jonas@hafen.example', firstName: 'Jonas', country: 'DE', industry: 'Lubricants' },
    { email: 'amy@harbor.example', firstName: 'Amy', country: 'US', industry: 'Lubricants' },
  ]);
  const r = await svc.api('POST', '/v1/compose', { leadIds: [de, us], sender: 'dach' });
  expect(r.body.failed).toEqual([]);
  const notices = r.body.emails.map((e: { text: string }) => e.text.split('\n').find((l) => l.includes('https://berg.example/datenschutz')));
  expect(notices).toEqual([
    'Woher wir Ihre Adresse haben und Ihre Rechte: https://berg.example/datenschutz',
    'How we got your address, and your rights: https://berg.example/datenschutz',
  ]);
  // the default sender has no notice: no link
  const [plain] = await importLeads(svc, [{ email: 'pat@plain.example', firstName: 'Pat', industry: 'Lubricants' }]);
  const p = await svc.api('POST', '/v1/compose', { leadIds: [plain] });
  expect(p.body.emails[0].text).not.toContain('your rights');
  // a notice must be an http(s) URL
  const bad = await svc.api('PUT', '/v1/senders/dach', { privacyNoticeUrl: 'javascript:alert(1)' });
  expect(bad.status).toBe(400);
});

test('every imported lead says where its data came from (what the importer said) and when (Apollo leads: erasure.error.test.ts)', async () => {
  const { svc } = w;
  const before = Date.now();
  const r = await svc.api('POST', '/v1/leads/import', {
    leads: [
      { email: 'fair@source.example', sourceDetail: 'Hannover Messe 2026, booth visitors', obtainedAt: '2026-04-22T10:00:00Z' },
      { email: 'plain@source.example' },
      { email: 'future@source.example', obtainedAt: '2999-01-01T00:00:00Z' },
    ],
  });
  expect(r.body).toEqual(expect.objectContaining({ imported: 2, invalid: [expect.objectContaining({ index: 2 })] }));
  const [fair, plain] = r.body.leadIds;
  const a = (await svc.api('GET', `/v1/leads/${fair}`)).body;
  expect(a).toEqual(expect.objectContaining({ source: 'import', sourceDetail: 'Hannover Messe 2026, booth visitors' }));
  expect(Date.parse(a.obtainedAt)).toBe(Date.parse('2026-04-22T10:00:00Z'));
  const b = (await svc.api('GET', `/v1/leads/${plain}`)).body;
  expect(b.source).toBe('import');
  expect(b.sourceDetail).toBeNull();
  expect(Date.parse(b.obtainedAt)).toBeGreaterThanOrEqual(before - 1000);
  // the claim's items stay as they were (the source is read per lead)
  const claim = await svc.api('POST', '/v1/batches/claim', { sender: 'default', size: 1 });
  expect(claim.body.leads[0]).not.toHaveProperty('obtainedAt');
});

test('retention removes event texts and finished sends’ bodies older than its days, exactly, and nothing newer', async () => {
  const { svc } = w;
  const q = rawSql(svc);
  const now = new Date();
  const DAY = 86_400_000;
  const ages = { old: 365 * DAY + 60_000, edge: 365 * DAY - 60_000, recent: 30 * DAY };
  const [lead] = await importLeads(svc, [{ email: 'rita@retention.example', firstName: 'Rita' }]);
  for (const [name, age] of Object.entries(ages)) {
    const e = await svc.api('POST', '/v1/events', {
      kind: 'unsubscribe', email: `${name}@retention.example`, subject: `subject ${name}`, text: `text ${name}`,
      receivedAt: new Date(now.getTime() - age).toISOString(),
    });
    expect(e.status).toBe(200);
  }
  // three finished sends of one lead (steps 1–3) sent at those ages, one still scheduled and old
  await q(`insert into sends (lead_id, step, sender_id, day, status, to_email, subject, text, html, timezone, timezone_source, send_at, sent_at, updated_at)
           select $1, n, 'default', current_date, case when n = 4 then 'scheduled' else 'sent' end, 'rita@retention.example',
                  'subject ' || n, 'body ' || n, '<p>body ' || n || '</p>', 'UTC', 'lead', $2::timestamptz - ages[n] * interval '1 ms',
                  case when n = 4 then null else $2::timestamptz - ages[n] * interval '1 ms' end, $2::timestamptz - ages[n] * interval '1 ms'
             from generate_series(1, 4) n, (select array[$3::bigint, $4::bigint, $5::bigint, $3::bigint] as ages) a`,
    [lead, now.toISOString(), ages.old, ages.edge, ages.recent]);

  const swept = await runSweep(svc.deps, now, 365);
  expect(swept.retention).toEqual(expect.objectContaining({ events: 1, sends: 1 }));
  const events = await q(`select email, subject, text from events where email like '%@retention.example' order by email`);
  expect(events).toEqual([
    { email: 'edge@retention.example', subject: 'subject edge', text: 'text edge' },
    { email: 'old@retention.example', subject: null, text: null },
    { email: 'recent@retention.example', subject: 'subject recent', text: 'text recent' },
  ]);
  const sends = await q(`select step, status, subject, text, html from sends where lead_id = $1 order by step`, [lead]);
  expect(sends).toEqual([
    { step: 1, status: 'sent', subject: '', text: '', html: '' },
    { step: 2, status: 'sent', subject: 'subject 2', text: 'body 2', html: '<p>body 2</p>' },
    { step: 3, status: 'sent', subject: 'subject 3', text: 'body 3', html: '<p>body 3</p>' },
    // a send not done yet keeps its body, however old
    { step: 4, status: 'scheduled', subject: 'subject 4', text: 'body 4', html: '<p>body 4</p>' },
  ]);
  // again: nothing more to remove; with 0 days (or a pass without retention) nothing ever goes
  expect((await runSweep(svc.deps, now, 365)).retention).toEqual({ events: 0, sends: 0, inboundMessages: 0, webhookDeliveries: 0 });
  expect((await runSweep(svc.deps, new Date(now.getTime() + 400 * DAY), 0)).retention).toBeNull();
  expect((await runSweep(svc.deps, new Date(now.getTime() + 400 * DAY))).retention).toBeNull();
  expect((await q(`select count(*)::int as n from events where text is not null and email like '%@retention.example'`))[0].n).toBe(2);
});
