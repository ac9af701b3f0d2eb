// End-to-end in a real n8n: a follow-up sequence over three simulated business
// days. The shipped daily pipeline runs unchanged each day (no extra branch for
// follow-ups); the service's clock is moved between days (sandbox mode: PUT
// /v1/sandbox/clock), never the machine's. Corofy delivers through its
// dispatcher to a local SMTP server whose log is the source of truth:
//   day 1 (Monday): step 1 to everyone;
//   day 2 (Tuesday): a reply and a hard bounce; the pipeline sends nothing;
//   day 4 (Thursday, 3 business days later): step 2 only to the others, as a
//   reply in the thread of step 1 (In-Reply-To = its Message-ID);
// then the stats per step equal the log.
//
//   node --import tsx test/e2e/sequences.e2e.ts      (part of npm run test:e2e)
import { createDatabase, E2eRun, N8n, seconds, startService, startSmtpServer, waitFor, type ReceivedMail } from './support/harness';

const e2e = E2eRun.start('sequences');
const check = (name: string, ok: boolean, detail?: unknown) => e2e.check(name, ok, detail);

const DAY1 = '2026-12-07T10:00:00Z'; // Monday, inside the default Mon-Fri 09:00-17:00 (UTC)
const DAY2 = '2026-12-08T10:00:00Z';
const DAY4 = '2026-12-10T10:00:00Z';

void e2e.main(async () => {
  const started = Date.now();
  const n8n = await N8n.prepare(e2e);
  const databaseUrl = await createDatabase(e2e);
  const { port: smtpPort, received } = await startSmtpServer(e2e, {
    auth: (auth, _session, callback) => callback(null, { user: auth.username }),
  });
  // sandbox mode (its own entry): the fake providers, and a service clock the test may move
  const service = await startService(e2e, {
    databaseUrl,
    entry: 'sandbox/main.ts',
    env: {
      COROFY_DISPATCH_INTERVAL_MS: '200',
      COROFY_SMTP_RATE_PER_SECOND: '100',
    },
  });
  const { api } = service;
  const setDay = async (iso: string) => {
    const clock = await api('PUT', '/v1/sandbox/clock', { now: iso });
    e2e.log(`service clock at ${clock.now}`);
  };

  await setDay(DAY1);
  await api('PUT', '/v1/senders/default', {
    dailyQuota: 20,
    timezone: 'UTC',
    fromName: 'Corofy E2E',
    fromEmail: 'outreach@seller.example',
    postalAddress: '1 Harbour Road, Rotterdam, NL',
    unsubscribeEmail: 'unsubscribe@seller.example',
    delivery: 'corofy',
    smtp: { host: '127.0.0.1', port: smtpPort, tls: 'none', user: 'outreach@seller.example', password: 'mailbox-pw' },
  });
  const sequence = await api('GET', '/v1/senders/default/sequence');
  check('the default sequence: step 1, follow-ups after 3 and 5 business days',
    JSON.stringify(sequence.steps.map((s: any) => s.delayBusinessDays)) === '[0,3,5]', sequence);

  const people = ['ann', 'bob', 'cat', 'dan'].map((name, i) => ({
    email: `${name}@company${i}.example`,
    firstName: name[0]!.toUpperCase() + name.slice(1),
    companyName: `Company ${i}`,
    companyDomain: `company${i}.example`,
    industry: 'lubricants',
    timezone: 'UTC',
  }));
  const imported = await api('POST', '/v1/leads/import', { leads: people });
  check('4 leads imported', imported.imported === 4, imported);

  await n8n.importWorkflows({
    credentials: [{ id: 'CorofyApiSeq0001', name: 'Corofy API', type: 'corofyApi', data: { baseUrl: service.url, apiKey: service.apiKey } }],
    corofyCredentialId: 'CorofyApiSeq0001',
    workflows: ['daily-pipeline.json'],
    // the leads are imported above: Apollo is not asked for more
    edit: (_file, wf) => {
      for (const node of wf.nodes) if (node.name === 'Apollo Search') node.parameters.leadsWanted = 0;
    },
  });
  const runDay = async (label: string) => {
    const run = await n8n.execute('CorofyDailyPipe1');
    const claimed = run.items('Claim Daily Batch');
    e2e.report[label] = {
      claimed: claimed.map((l: any) => ({ email: l.email, step: l.step })),
      gate: run.items('Timezone Gate', 0).map((s: any) => ({ to: s.to, step: s.step, delivery: s.delivery })),
      executionSeconds: seconds(run.execMs),
    };
    return run;
  };
  const mailTo = (email: string) => received.filter((m) => m.to.includes(email));

  // day 1: step 1 to everyone
  const day1 = await runDay('day1');
  check('day 1: the batch is the 4 leads, step 1', day1.items('Claim Daily Batch').length === 4 &&
    day1.items('Claim Daily Batch').every((l: any) => l.step === 1), e2e.report.day1);
  await waitFor('4 emails in the SMTP log', async () => (received.length >= 4 ? true : undefined), 60_000);
  check('day 1: one email to each lead', people.every((p) => mailTo(p.email).length === 1), received.map((m) => m.to));
  const step1 = new Map<string, ReceivedMail>(people.map((p) => [p.email, mailTo(p.email)[0]!]));

  // day 2: Ann replies to step 1, Bob's address bounces; the pipeline claims nothing
  await setDay(DAY2);
  const reply = await api('POST', '/v1/events', { kind: 'reply', email: 'ann@company0.example', inReplyTo: step1.get('ann@company0.example')!.messageId, text: 'Not now.' });
  const bounce = await api('POST', '/v1/events', { kind: 'bounce', email: 'bob@company1.example', messageId: step1.get('bob@company1.example')!.messageId });
  check('day 2: the reply and the bounce stop their leads', reply.status === 'replied' && bounce.status === 'bounced', { reply, bounce });
  const day2 = await runDay('day2');
  check('day 2: nothing is due, nothing claimed', day2.items('Claim Daily Batch').length === 0, e2e.report.day2);

  // day 4: step 2 only to Cat and Dan, threaded to their step 1
  await setDay(DAY4);
  const day4 = await runDay('day4');
  const claimed4 = day4.items('Claim Daily Batch');
  check('day 4: the batch is the two follow-ups, step 2',
    claimed4.length === 2 && claimed4.every((l: any) => l.step === 2) &&
      JSON.stringify(claimed4.map((l: any) => l.email).sort()) === JSON.stringify(['cat@company2.example', 'dan@company3.example']),
    e2e.report.day4);
  await waitFor('6 emails in the SMTP log', async () => (received.length >= 6 ? true : undefined), 60_000);
  await new Promise((r) => setTimeout(r, 2000)); // anything more would show up now
  check('nothing more to Ann (replied) or Bob (bounced)',
    mailTo('ann@company0.example').length === 1 && mailTo('bob@company1.example').length === 1, received.map((m) => m.to));
  for (const email of ['cat@company2.example', 'dan@company3.example']) {
    const [first, second] = mailTo(email);
    check(`${email}: step 2 is a reply in the thread of step 1 (SMTP log)`,
      !!second && second.header('In-Reply-To') === first!.messageId && second.header('References') === first!.messageId &&
        second.subject === `Re: ${first!.subject}` && second.messageId !== first!.messageId,
      { first: first && { messageId: first.messageId, subject: first.subject },
        second: second && { inReplyTo: second.header('In-Reply-To'), references: second.header('References'), subject: second.subject } });
  }
  check('6 emails in all, Message-IDs unique', received.length === 6 && new Set(received.map((m) => m.messageId)).size === 6, received.length);

  // stats per step equal the log
  const stats = {
    day1: await api('GET', '/v1/stats?day=2026-12-07'),
    day2: await api('GET', '/v1/stats?day=2026-12-08'),
    day4: await api('GET', '/v1/stats?day=2026-12-10'),
  };
  e2e.report.stepsStats = { day1: stats.day1.steps, day2: stats.day2.steps, day4: stats.day4.steps };
  const stepRow = (s: any, step: number) => s.steps.find((x: any) => x.step === step) ?? {};
  check('stats per step equal the SMTP log and the events',
    stepRow(stats.day1, 1).sent === 4 && stepRow(stats.day2, 1).replied === 1 && stepRow(stats.day2, 1).bounced === 1 &&
      stepRow(stats.day4, 2).sent === 2 && stats.day4.steps.length === 1 &&
      stats.day1.sent + stats.day4.sent === received.length,
    e2e.report.stepsStats);
  e2e.report.smtpReceived = received.length;
  e2e.report.wallSeconds = seconds(Date.now() - started);
});
