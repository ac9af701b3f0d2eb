// Erasure tries hard to fail: a person who was emailed, replied and is
// erased must leave no trace in any table (only hashes), and must never be
// emailed, imported or paid for (Apollo reveal) again; a pending send of an
// erased person is cancelled and its quota given back.
import crypto from 'node:crypto';
import { simpleParser } from 'mailparser';
import { startFakeApollo, type FakeApollo } from '../../../sandbox/fake-apollo';
import { matchedIds } from '../apollo/apollo-kit';
import { startComposeWorld, type ComposeWorld } from '../compose/compose-fixture';
import { rawSql } from '../support/sends-fixture';

let apollo: FakeApollo;
let w: ComposeWorld;
beforeAll(async () => {
  apollo = await startFakeApollo({ seed: 7, people: 60 });
  w = await startComposeWorld({ env: { APOLLO_API_KEY: apollo.state.apiKey, APOLLO_BASE_URL: apollo.url, APOLLO_RETRY_BASE_MS: '5' } });
}, 240_000);
afterAll(async () => {
  await w?.stop();
  await apollo?.close();
});

const identity = { fromName: 'Jane Seller', fromEmail: 'jane@seller.example', postalAddress: '1 Harbour Road, Rotterdam, NL', privacyNoticeUrl: 'https://seller.example/privacy' };
const ALL_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** An Etc/GMT zone where the local hour is `hour` right now (Etc/GMT-3 is UTC+3). */
function zoneWithLocalHour(hour: number): string {
  let offset = (hour - new Date().getUTCHours() + 24) % 24;
  if (offset > 14) offset -= 24;
  return offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

/** Every row of every table of ours, as text, that contains `needle` (case-insensitive). */
async function rowsMentioning(needle: string): Promise<string[]> {
  const q = rawSql(w.svc);
  const tables = await q(`select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`);
  const found: string[] = [];
  for (const { table_name } of tables) {
    const rows = await q(`select t::text as row from "${table_name}" t where strpos(lower(t::text), lower($1)) > 0`, [needle]);
    for (const r of rows) found.push(`${table_name}: ${r.row}`);
  }
  return found;
}

test('an erased person is never emailed, imported or paid for again; nothing of them stays but hashes', async () => {
  const { svc } = w;
  expect((await svc.api('PUT', '/v1/senders/default', { ...identity, window: { days: ALL_DAYS, start: '00:00', end: '23:59' }, skipHolidays: false })).status).toBe(200);
  expect((await svc.api('PUT', '/v1/senders/later', { ...identity, window: { days: ALL_DAYS, start: '08:00', end: '20:00' }, skipHolidays: false })).status).toBe(200);

  // three people from Apollo, emailed through n8n delivery; the first one replies
  const search = await svc.api('POST', '/v1/searches', { leadsWanted: 3, filters: {} });
  expect(search.status).toBe(201);
  expect(search.body.creditsUsed).toBe(3);
  const [ana, ...others] = search.body.leads;
  expect(ana.apolloId).toEqual(expect.any(String));
  const claim = await svc.api('POST', '/v1/batches/claim', { sender: 'default', size: 3 });
  expect(claim.body.leads.map((l: { id: string }) => l.id)).toEqual(search.body.leads.map((l: { id: string }) => l.id));
  const ids = claim.body.leads.map((l: { id: string }) => l.id);
  const composed = await svc.api('POST', '/v1/compose', { leadIds: ids });
  expect(composed.body.failed).toEqual([]);
  const gated = await svc.api('POST', '/v1/gate', { leadIds: ids, sender: 'default' });
  expect(gated.status).toBe(200);
  expect(gated.body.sendNow).toHaveLength(3);
  // the message as it goes out carries the sender's postal address and privacy notice
  const anaSend = gated.body.sendNow.find((s: { leadId: string }) => s.leadId === ana.id);
  const message = await simpleParser(Buffer.from(anaSend.raw, 'base64url'));
  expect(message.text).toContain('1 Harbour Road, Rotterdam, NL');
  expect(message.text).toContain('How we got your address, and your rights: https://seller.example/privacy');
  expect(message.html).toContain('href="https://seller.example/privacy"');
  const reported = await svc.api('POST', '/v1/sends/report', { results: [{ sendId: anaSend.sendId, status: 'sent' }] });
  expect(reported.status).toBe(200);
  const reply = await svc.api('POST', '/v1/events', {
    kind: 'reply', email: ana.email, subject: `Re: ${anaSend.subject}`, text: `Please delete everything you hold about ${ana.firstName}.`,
  });
  expect(reply.body.leadId).toBe(ana.id);

  // an imported person whose email waits for their morning (scheduled, not sent)
  const pia = { email: 'pia.pending@erasure-test.example', firstName: 'Pia', lastName: 'Pendleton', timezone: zoneWithLocalHour(2) };
  const [piaId] = (await svc.api('POST', '/v1/leads/import', { leads: [pia] })).body.leadIds;
  expect((await svc.api('POST', '/v1/batches/claim', { sender: 'later', size: 1 })).body.leads[0].id).toBe(piaId);
  expect((await svc.api('POST', '/v1/compose', { leadIds: [piaId], sender: 'later' })).body.failed).toEqual([]);
  const piaGate = await svc.api('POST', '/v1/gate', { leadIds: [piaId], sender: 'later' });
  expect(piaGate.body.scheduled).toHaveLength(1);
  const day = piaGate.body.scheduled[0].sendAt.slice(0, 10);
  expect((await svc.api('GET', `/v1/stats?sender=later&day=${day}`)).body.scheduled).toBe(1);

  // before: the person is in many rows (the scan below can find them)
  const before = await rowsMentioning(ana.email);
  expect(new Set(before.map((r) => r.split(':')[0]))).toEqual(new Set(['leads', 'sends', 'events']));

  // erase both
  const erasedAna = await svc.api('DELETE', `/v1/leads/${ana.id}?erase=true`);
  expect(erasedAna.status).toBe(200);
  expect(erasedAna.body).toEqual(expect.objectContaining({ leadId: ana.id, status: 'erased', alreadyErased: false }));
  const erasedPia = await svc.api('DELETE', `/v1/leads/${piaId}?erase=true`);
  expect(erasedPia.body).toEqual(expect.objectContaining({ leadId: piaId, status: 'erased', cancelledSends: 1 }));
  expect((await svc.api('GET', `/v1/stats?sender=later&day=${day}`)).body.scheduled).toBe(0);
  expect((await svc.api('DELETE', `/v1/leads/${piaId}?erase=true`)).body.alreadyErased).toBe(true);

  // a late reply to the email sent before, and an opt-out from the address: recorded
  // as having happened, nothing of them kept, the lead stays erased
  const late = await svc.api('POST', '/v1/events', {
    kind: 'reply', inReplyTo: message.messageId, email: ana.email, subject: 'Re: still there?', text: 'Please delete everything, again',
  });
  expect(late.body).toEqual(expect.objectContaining({ leadId: ana.id, status: 'erased', cancelledSends: 0 }));
  const optOut = await svc.api('POST', '/v1/events', { kind: 'unsubscribe', email: ana.email.toUpperCase(), text: 'Please delete everything' });
  expect(optOut.body).toEqual(expect.objectContaining({ leadId: null, suppressed: false }));
  expect((await svc.api('GET', `/v1/leads/${ana.id}`)).body.status).toBe('erased');
  // the same reply read from the mailbox (POST /v1/inbound, as the IMAP watcher records it)
  const raw = [
    `From: ${ana.firstName} ${ana.lastName} <${ana.email}>`, 'To: Jane Seller <jane@seller.example>', 'Subject: Re: your email, Pendleton-free',
    'Message-ID: <late-reply-1@client.example>', `In-Reply-To: ${message.messageId}`, `Date: ${new Date().toUTCString()}`,
    'Content-Type: text/plain; charset=utf-8', '', 'Please delete everything you hold, once more.', '',
  ].join('\r\n');
  const inbound = await svc.api('POST', '/v1/inbound', raw, { 'content-type': 'message/rfc822' });
  expect(inbound.status).toBe(200);
  expect(inbound.body).toEqual(expect.objectContaining({ kind: 'reply', leadId: ana.id }));
  expect((await svc.api('GET', `/v1/leads/${ana.id}`)).body.status).toBe('erased');

  // nothing of them in any table: not the address, the Apollo id, the name, the reply
  for (const needle of [ana.email, ana.apolloId, ana.linkedinUrl, `${ana.firstName} ${ana.lastName}`, 'Please delete everything', pia.email, 'Pendleton']) {
    if (needle) expect(await rowsMentioning(needle)).toEqual([]);
  }
  expect((await svc.api('GET', `/v1/leads/${ana.id}`)).body).toEqual(
    expect.objectContaining({ id: ana.id, status: 'erased', source: 'apollo', searchId: search.body.searchId }),
  );
  const pending = await rawSql(svc)(`select status, to_email, text from sends where lead_id = $1`, [piaId]);
  expect(pending).toEqual([{ status: 'cancelled', to_email: '', text: '' }]);
  // what stays: hashes
  const kept = (await svc.api('GET', '/v1/suppressions')).body.suppressions.filter((s: { kind: string }) => s.kind === 'erased');
  expect(kept.map((s: { value: string }) => s.value).sort()).toEqual(
    [`sha256:${sha256(ana.email.toLowerCase())}`, `apollo-sha256:${sha256(ana.apolloId)}`, `sha256:${sha256(pia.email)}`].sort(),
  );

  // never imported again (any case, a +tag variant), never claimed
  const again = await svc.api('POST', '/v1/leads/import', {
    leads: [{ email: ana.email.toUpperCase() }, { email: 'new.person@erasure-test.example' }, { email: pia.email.replace('@', '+again@') }],
  });
  expect(again.body).toEqual(expect.objectContaining({ imported: 1, duplicates: 0, erased: [0, 2] }));
  const next = await svc.api('POST', '/v1/batches/claim', { sender: 'default' });
  expect(next.body.leads.map((l: { email: string }) => l.email)).toEqual(['new.person@erasure-test.example']);

  // never paid for again: a new search meets Ana first and reveals others
  const from = apollo.state.requests.length;
  const creditsBefore = apollo.state.creditsUsed;
  const second = await svc.api('POST', '/v1/searches', { leadsWanted: 5, filters: {} });
  expect(second.status).toBe(201);
  const revealed = matchedIds(apollo, from);
  expect(revealed).not.toContain(ana.apolloId);
  expect(revealed).not.toEqual(expect.arrayContaining(others.map((o: { apolloId: string }) => o.apolloId).slice(0, 1)));
  expect(apollo.state.creditsUsed - creditsBefore).toBe(second.body.creditsUsed);
  expect(second.body.leads.map((l: { apolloId: string }) => l.apolloId)).not.toContain(ana.apolloId);
  expect(second.body.suppressedSkipped).toBeGreaterThanOrEqual(1);
});

test('a composed lead erased before the gate: its claim goes back to the day, the gate and compose hand nothing out; unknown lead 404, no erase=true 400', async () => {
  const { svc } = w;
  const [id] = (await svc.api('POST', '/v1/leads/import', { leads: [{ email: 'clara.claimed@erasure-test.example' }] })).body.leadIds;
  // (leads imported or found by the test before are claimed with it)
  const claim = await svc.api('POST', '/v1/batches/claim', { sender: 'default' });
  expect(claim.body.leads.map((l: { id: string }) => l.id)).toContain(id);
  // composed, then erased before the gate
  expect((await svc.api('POST', '/v1/compose', { leadIds: [id] })).body.failed).toEqual([]);
  const before = (await svc.api('GET', `/v1/stats?sender=default&day=${claim.body.day}`)).body.claimed;
  const erased = await svc.api('DELETE', `/v1/leads/${id}?erase=true`);
  expect(erased.body).toEqual(expect.objectContaining({ status: 'erased', claimReleased: true }));
  expect((await svc.api('GET', `/v1/stats?sender=default&day=${claim.body.day}`)).body.claimed).toBe(before - 1);
  // the gate hands nothing out for it, compose writes nothing for it
  const gated = await svc.api('POST', '/v1/gate', { leadIds: [id], sender: 'default' });
  expect(gated.status).toBe(200);
  expect([...gated.body.sendNow, ...gated.body.scheduled]).toEqual([]);
  expect(gated.body.skipped).toEqual([expect.objectContaining({ leadId: id })]);
  const composed = await svc.api('POST', '/v1/compose', { leadIds: [id] });
  expect(composed.body.failed).toEqual([expect.objectContaining({ leadId: id, code: 'lead_erased' })]);

  const missing = await svc.api('DELETE', '/v1/leads/987654321?erase=true');
  expect(missing.status).toBe(404);
  expect(missing.body.code).toBe('lead_not_found');
  const bare = await svc.api('DELETE', `/v1/leads/${id}`);
  expect(bare.status).toBe(400);
  expect(bare.body.code).toBe('validation_failed');
});
