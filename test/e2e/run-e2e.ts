// End-to-end in a real n8n (2.x, Node 24): the packed node package installed as
// a community package, credentials and the shipped workflows imported, the
// service on real Postgres with the fake providers, and a local SMTP server
// that receives the mail. Runs the daily pipeline twice, a reply through the
// production webhook, and the queue drain; asserts from the SMTP server's own
// log; prints one JSON report; exits non-zero on any failure.
//
//   node --import tsx test/e2e/run-e2e.ts        (the first of npm run test:e2e)
//
// Environment: TEST_DATABASE_URL (admin connection, default the local
// postgres), COROFY_E2E_CACHE (where n8n is installed once), E2E_KEEP=1 keeps
// the temporary folder for inspection.
import { randomBytes } from 'node:crypto';
import { ALL_DAYS_WINDOW, localHour, zonesByWindow } from '../workflows/support/zones';
import { createDatabase, E2eRun, N8n, seconds, smtpRefusal, startFakeProviders, startService, startSmtpServer, waitFor, type ReceivedMail } from './support/harness';

const INSIDE = 200;
const OUTSIDE = 200;
const QUOTA = 400;

const e2e = E2eRun.start('daily');
const { report, log } = { report: e2e.report, log: (m: string) => e2e.log(m) };
const check = (name: string, ok: boolean, detail?: unknown) => e2e.check(name, ok, detail);

void e2e.main(async () => {
  const started = Date.now();
  // 1–2. n8n (cached) with our package installed as a community package
  const n8nAt = await N8n.prepare(e2e);

  // 3. Postgres database, fakes, SMTP server, the service
  const databaseUrl = await createDatabase(e2e);
  const fakes = await startFakeProviders(e2e, { seed: 5, people: 3000 });
  const { apollo } = fakes;

  // The SMTP server's own log is the source of truth for what was sent.
  const tempFail = new Set<string>(); // addresses answered 451 once
  const { port: smtpPort, received } = await startSmtpServer(e2e, {
    onRcptTo: (to) => (tempFail.delete(to) ? smtpRefusal(451, 'Mailbox temporarily unavailable') : undefined),
  });
  const service = await startService(e2e, {
    databaseUrl,
    env: fakes.env,
  });
  const { api, apiKey, url: serviceUrl } = service;

  // 4. the day's data: recipients inside their window now, others before it opens
  const { inside, outside, senderZone } = zonesByWindow();
  report.zones = { senderZone, inside, outside };
  await api('PUT', '/v1/senders/default', {
    dailyQuota: QUOTA,
    timezone: senderZone,
    ...ALL_DAYS_WINDOW,
    fromName: 'Corofy E2E',
    fromEmail: 'outreach@seller.example',
    postalAddress: '1 Harbour Road, Rotterdam, NL',
  });
  const tag = Date.now().toString(36);
  const suppressed = { email: `optout-${tag}@stop.example`, firstName: 'Opt', industry: 'lubricants', timezone: inside[0]! };
  const lead = (kind: 'in' | 'out', i: number, zones: string[]) => ({
    email: `${kind}${i}-${tag}@company${i % 37}.example`,
    firstName: `${kind === 'in' ? 'Ines' : 'Otto'}${i}`,
    lastName: 'Buyer',
    companyName: `Company ${i % 37}`,
    industry: 'lubricants',
    timezone: zones[i % zones.length]!,
  });
  const insideLeads = Array.from({ length: INSIDE }, (_, i) => lead('in', i, inside));
  const outsideLeads = Array.from({ length: OUTSIDE }, (_, i) => lead('out', i, outside));
  const interleaved = insideLeads.flatMap((l, i) => [l, outsideLeads[i]!]);
  const imported = await api('POST', '/v1/leads/import', { leads: [suppressed, ...interleaved] });
  check('400 leads and one to suppress imported', imported.imported === 401, imported);
  await api('POST', '/v1/suppressions', { email: suppressed.email, reason: 'asked to stop' });
  // Two inside recipients' mailboxes fail once (451): reported failed, retried by the drain.
  const retried = insideLeads[3]!.email;
  const repliedLead = insideLeads[5]!.email;
  tempFail.add(retried.toLowerCase());
  tempFail.add(repliedLead.toLowerCase());

  // 5. n8n: credentials and workflows
  const webhookKey = randomBytes(12).toString('hex');
  const credentials = [
    { id: 'CorofyApiE2e0001', name: 'Corofy API', type: 'corofyApi', data: { baseUrl: serviceUrl, apiKey } },
    {
      id: 'SmtpLocalE2e0001',
      name: 'Local SMTP',
      type: 'smtp',
      data: { user: '', password: '', host: '127.0.0.1', port: smtpPort, secure: false, disableStartTls: true },
    },
    {
      id: 'HookKeyE2e000001',
      name: 'Corofy webhook key',
      type: 'httpHeaderAuth',
      data: { name: 'X-Corofy-Webhook-Key', value: webhookKey },
    },
  ];
  await n8nAt.importWorkflows({
    credentials,
    corofyCredentialId: 'CorofyApiE2e0001',
    credentialFor: { 'n8n-nodes-base.emailSend': 'SmtpLocalE2e0001', 'n8n-nodes-base.webhook': 'HookKeyE2e000001' },
    workflows: ['daily-pipeline.json', 'queue-drain.json', 'replies.json'],
  });
  const stats = () => api('GET', '/v1/stats?sender=default');
  const execute = (id: string) => n8nAt.execute(id);
  const n8nPort = n8nAt.port;

  // 6. the daily pipeline, twice
  log('daily pipeline, first run');
  const first = await execute('CorofyDailyPipe1');
  const sendNow = first.items('Timezone Gate', 0);
  const scheduled = first.items('Timezone Gate', 1);
  report.dailyPipeline = {
    leads: first.items('Claim Daily Batch').length,
    wallSeconds: seconds(first.wallMs),
    executionSeconds: seconds(first.execMs),
    sentNow: sendNow.length,
    scheduled: scheduled.length,
    goalSeconds: 30,
    nodeSeconds: first.nodeSeconds,
    note: 'wallSeconds includes starting the n8n CLI process; executionSeconds is the workflow run itself',
  };
  check('first run: Apollo topped up the whole quota', first.items('Apollo Search')[0]?.leadsWanted === QUOTA, first.items('Apollo Search')[0]);
  check('first run: 400 leads claimed, the suppressed one passed over',
    first.items('Claim Daily Batch').length === QUOTA && !first.items('Claim Daily Batch').some((l: any) => l.email === suppressed.email));
  check('first run: 400 composed, none failed', first.items('Compose Email').length === QUOTA && first.items('Compose Email', 1).length === 0,
    { composed: first.items('Compose Email').length, failed: first.items('Compose Email', 1).slice(0, 3) });
  const insideSet = new Set(insideLeads.map((l) => l.email.toLowerCase()));
  const outsideSet = new Set(outsideLeads.map((l) => l.email.toLowerCase()));
  check('gate: every inside recipient is sent now', sendNow.length === INSIDE && sendNow.every((s: any) => insideSet.has(s.to)),
    { sendNow: sendNow.length });
  check('gate: every outside recipient is scheduled', scheduled.length === OUTSIDE && scheduled.every((s: any) => outsideSet.has(s.to) && s.gate === 'scheduled'),
    { scheduled: scheduled.length });
  check('reports: 198 sent, 2 failed and retrying',
    first.items('Report Sent').length === INSIDE - 2 && first.items('Report Failed').length === 2 &&
      first.items('Report Failed').every((r: any) => r.status === 'failed' && r.permanent === false),
    { sent: first.items('Report Sent').length, failed: first.items('Report Failed') });
  const mailsAfterFirst = received.length;
  check('SMTP received the 198 accepted emails', mailsAfterFirst === INSIDE - 2, { received: mailsAfterFirst });

  log('daily pipeline, second run (same day)');
  const second = await execute('CorofyDailyPipe1');
  report.secondRun = { wallSeconds: seconds(second.wallMs), claimed: second.items('Claim Daily Batch').length };
  check('second run: no quota left, no search, nothing claimed',
    second.items('Quota Left Today')[0]?.remaining === 0 && second.items('Apollo Search')[0]?.searched === false &&
      second.items('Claim Daily Batch').length === 0 && !second.ran('Compose Email'),
    { quota: second.items('Quota Left Today')[0], apollo: second.items('Apollo Search')[0] });
  check('second run: SMTP received nothing new', received.length === mailsAfterFirst, { received: received.length });

  // 7. a reply through the production webhook (n8n start)
  log('publishing the replies workflow and starting n8n');
  await n8nAt.cli(['publish:workflow', '--id=CorofyReplyHook1']);
  await n8nAt.start();
  const stopN8n = () => n8nAt.stop();
  const hookUrl = `http://127.0.0.1:${n8nPort}/webhook/corofy-events`;
  const replyBody = { kind: 'reply', email: repliedLead, subject: 'Re: your email', text: 'Please stop, we are not interested.' };
  const denied = await waitFor('the production webhook', async () => {
    const r = await fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(replyBody) });
    // 503 "Database is not ready!": n8n still starting (seen on a loaded machine)
    return r.status === 404 || r.status === 503 ? undefined : r.status;
  }, 60_000);
  check('webhook without the header key is refused', denied === 403 || denied === 401, { status: denied });
  const hook = await fetch(hookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Corofy-Webhook-Key': webhookKey },
    body: JSON.stringify(replyBody),
  });
  const hookAnswer = (await hook.json()) as any;
  report.webhook = { status: hook.status, answer: hookAnswer };
  check('reply recorded through the webhook: lead replied, its retry cancelled',
    hook.status === 200 && hookAnswer.status === 'replied' && hookAnswer.cancelledSends === 1, hookAnswer);
  // The credential's test, as the editor runs it (owner account, then /rest/credentials/test).
  const owner = { cookie: await n8nAt.setupOwner() };
  const rest = (p: string, body: unknown, cookie = '') => n8nAt.rest(p, body, cookie);
  const testCredential = async (data: Record<string, unknown>) => {
    const r = await rest('/credentials/test', { credentials: { id: credentials[0]!.id, name: credentials[0]!.name, type: 'corofyApi', data } }, owner.cookie);
    return r.json?.data ?? { status: r.status, answer: r.json };
  };
  const credentialTests = {
    right: await testCredential({ baseUrl: serviceUrl, apiKey }),
    wrongKey: await testCredential({ baseUrl: serviceUrl, apiKey: 'not-the-key-0123456789' }),
    wrongUrl: await testCredential({ baseUrl: `http://127.0.0.1:${smtpPort + 1}`, apiKey }),
    notCorofy: await testCredential({ baseUrl: apollo.url, apiKey }),
  };
  report.credentialTest = credentialTests;
  check('credential test: the right key passes', credentialTests.right?.status === 'OK', credentialTests.right);
  check('credential test: a wrong key fails saying the key is wrong',
    credentialTests.wrongKey?.status === 'Error' && /API key is wrong/.test(credentialTests.wrongKey?.message), credentialTests.wrongKey);
  check('credential test: a wrong URL fails', credentialTests.wrongUrl?.status === 'Error' && credentialTests.notCorofy?.status === 'Error',
    { wrongUrl: credentialTests.wrongUrl, notCorofy: credentialTests.notCorofy });
  await stopN8n();

  // 8. the queue drain: the other failed send's retry is due now
  log('queue drain');
  const drain = await execute('CorofyQueueDrain');
  report.queueDrain = { wallSeconds: seconds(drain.wallMs), claimed: drain.items('Claim Due Sends').length };
  check('drain: only the non-replied retry was due and sent',
    drain.items('Claim Due Sends').length === 1 && drain.items('Claim Due Sends')[0]?.to === retried.toLowerCase() &&
      drain.items('Report Sent').length === 1, drain.items('Claim Due Sends').map((s: any) => s.to));

  // 9. assertions from the SMTP server's own log
  const byRecipient = new Map<string, ReceivedMail[]>();
  for (const m of received) for (const to of m.to) byRecipient.set(to, [...(byRecipient.get(to) ?? []), m]);
  const expected = [...insideSet].filter((e) => e !== repliedLead.toLowerCase());
  check('every expected email arrived exactly once',
    expected.every((e) => byRecipient.get(e)?.length === 1) && received.every((m) => m.to.length === 1),
    expected.filter((e) => byRecipient.get(e)?.length !== 1).slice(0, 5));
  check('nothing to anyone else (outside their window, suppressed, replied)',
    [...byRecipient.keys()].every((e) => expected.includes(e)), [...byRecipient.keys()].filter((e) => !expected.includes(e)));
  check('none to the suppressed address', !byRecipient.has(suppressed.email.toLowerCase()));
  check('the replied lead got nothing more', !byRecipient.has(repliedLead.toLowerCase()));
  const zoneOf = new Map([...insideLeads, ...outsideLeads].map((l) => [l.email.toLowerCase(), l.timezone]));
  const outOfWindow = received.filter((m) => {
    const h = localHour(zoneOf.get(m.to[0]!)!, m.receivedAt);
    return !(h >= 9 && h < 17);
  });
  check('every email arrived inside its recipient’s 09:00–17:00', outOfWindow.length === 0, outOfWindow.slice(0, 3).map((m) => m.to));
  // n8n's attribution is "This email was sent automatically with n8n" and a link
  // to n8n.io; random strings in a body (signed unsubscribe tokens, MIME
  // boundaries) may well contain "n8n", so look for the attribution itself
  const attribution = /sent automatically with|n8n\.io/i;
  const unclean = received.filter(
    (m) => attribution.test(m.text) || attribution.test(m.html) || m.text === '' || m.subject === '' || m.messageId === '',
  );
  check('no "sent with n8n" attribution, subject and Message-ID present', unclean.length === 0,
    unclean.slice(0, 2).map((m) => ({ to: m.to, subject: m.subject, messageId: m.messageId, text: m.text.slice(-300) })));
  const messageIds = new Set(received.map((m) => m.messageId));
  check('Message-IDs are unique', messageIds.size === received.length);

  const s = await stats();
  report.stats = s;
  check('stats agree with the SMTP log',
    s.sent === received.length && s.sending === 0 && s.replied === 1 && s.scheduled === OUTSIDE && s.quota === QUOTA,
    { stats: s, smtp: received.length });
  check('Apollo credits in stats equal the fake’s ledger', s.apolloCreditsUsed === apollo.state.creditsUsed,
    { stats: s.apolloCreditsUsed, fake: apollo.state.creditsUsed });
  report.smtpReceived = received.length;
  report.wallSeconds = seconds(Date.now() - started);
});
