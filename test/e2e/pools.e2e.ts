// End-to-end in a real n8n: a pool of three mailboxes (one new, so ramped)
// with one daily target. The shipped daily pipeline, set to claim for the
// pool, runs once for the whole pool; Corofy's dispatcher sends each email
// through its lead's own mailbox (a local SMTP server per mailbox, whose log
// is the source of truth); then a burst of hard bounces pauses one mailbox and
// the next run sends from the others only. Prints one JSON report; exits
// non-zero on any failure.
//
//   node --import tsx test/e2e/pools.e2e.ts        (part of npm run test:e2e)
import { ALL_DAYS_WINDOW, zonesByWindow } from '../workflows/support/zones';
import { createDatabase, E2eRun, N8n, type ReceivedMail, seconds, startFakeProviders, startService, startSmtpServer, waitFor } from './support/harness';

const e2e = E2eRun.start('pools');
const { report } = e2e;
const check = (name: string, ok: boolean, detail?: unknown) => e2e.check(name, ok, detail);

// alpha and bravo send 10 a day; fresh is new: 4 today (+4 each sending day, up to 40)
const MAILBOXES = [
  { id: 'alpha', settings: { dailyQuota: 10 } },
  { id: 'bravo', settings: { dailyQuota: 10 } },
  { id: 'fresh', settings: { dailyQuota: 40, rampUp: { start: 4, step: 4, cap: 40 } } },
] as const;
const TARGET = 20;

const countBy = <T>(xs: T[], key: (x: T) => string) =>
  xs.reduce<Record<string, number>>((acc, x) => ({ ...acc, [key(x)]: (acc[key(x)] ?? 0) + 1 }), {});

void e2e.main(async () => {
  const started = Date.now();
  const n8nAt = await N8n.prepare(e2e);
  const databaseUrl = await createDatabase(e2e);
  const fakes = await startFakeProviders(e2e, { seed: 7, people: 200 });

  // one SMTP server per mailbox: what each received is what that mailbox sent
  const inbox: Record<string, ReceivedMail[]> = {};
  const ports: Record<string, number> = {};
  for (const { id } of MAILBOXES) {
    const smtp = await startSmtpServer(e2e, { auth: (auth, _session, cb) => cb(null, { user: auth.username }) });
    inbox[id] = smtp.received;
    ports[id] = smtp.port;
  }
  const service = await startService(e2e, {
    databaseUrl,
    env: {
      ...fakes.env,
      COROFY_DISPATCH_INTERVAL_MS: '200',
      COROFY_SMTP_RATE_PER_SECOND: '200',
    },
  });
  const { api, apiKey, url: serviceUrl } = service;

  const { inside, senderZone } = zonesByWindow();
  // the pipeline's Quota Left Today reads the sender "default": with nothing left there, it buys no leads
  await api('PUT', '/v1/senders/default', { dailyQuota: 0 });
  for (const { id, settings } of MAILBOXES) {
    await api('PUT', `/v1/senders/${id}`, {
      ...settings,
      timezone: senderZone,
      ...ALL_DAYS_WINDOW,
      fromName: `${id[0]!.toUpperCase()}${id.slice(1)} Seller`,
      fromEmail: `${id}@seller.example`,
      postalAddress: '1 Harbour Road, Rotterdam, NL',
      delivery: 'corofy',
      smtp: { host: '127.0.0.1', port: ports[id], tls: 'none', user: `${id}@seller.example`, password: `pw-${id}` },
    });
  }
  const pool = await api('PUT', '/v1/pools/team', { dailyTarget: TARGET, members: MAILBOXES.map((m) => m.id) });
  report.poolBefore = pool;
  check('the new mailbox is ramped: 4 today', pool.members.find((m: any) => m.sender === 'fresh')?.limitToday === 4, pool.members);
  const tag = Date.now().toString(36);
  const leads = Array.from({ length: 40 }, (_, i) => ({
    email: `p${i}-${tag}@buyer${i}.example`,
    firstName: `Pat${i}`,
    companyName: `Buyer ${i}`,
    industry: 'lubricants',
    timezone: inside[i % inside.length]!,
  }));
  check('40 leads imported', (await api('POST', '/v1/leads/import', { leads })).imported === 40);

  const credentials = [
    { id: 'CorofyApiPool001', name: 'Corofy API', type: 'corofyApi', data: { baseUrl: serviceUrl, apiKey } },
    {
      id: 'SmtpUnusedPool01',
      name: 'SMTP (unused: delivery corofy)',
      type: 'smtp',
      data: { user: '', password: '', host: '127.0.0.1', port: ports.alpha, secure: false, disableStartTls: true },
    },
  ];
  // as the README says: Claim Daily Batch → Claim For: Pool
  await n8nAt.importWorkflows({
    credentials,
    corofyCredentialId: 'CorofyApiPool001',
    credentialFor: { 'n8n-nodes-base.emailSend': 'SmtpUnusedPool01' },
    workflows: ['daily-pipeline.json'],
    edit: (_file, wf) => {
      for (const node of wf.nodes) {
        if (node.name === 'Claim Daily Batch') Object.assign(node.parameters, { claimFor: 'pool', pool: 'team' });
      }
    },
  });

  // 1. one run for the whole pool
  e2e.log('daily pipeline for the pool');
  const first = await n8nAt.execute('CorofyDailyPipe1');
  const claimed = first.items('Claim Daily Batch');
  const bySender = countBy(claimed, (l: any) => l.sender);
  // 20 over rooms 10, 10, 4 (24): 8.33, 8.33, 3.33 → 8, 8, 3, the one left to the first in id order
  report.firstRun = { wallSeconds: seconds(first.wallMs), executionSeconds: seconds(first.execMs), claimedBySender: bySender };
  check('no leads bought (Quota Left Today reads the default sender, which has none left)',
    first.items('Apollo Search')[0]?.searched === false, first.items('Apollo Search')[0]);
  check('the target is spread by the room each mailbox has: alpha 9, bravo 8, fresh 3',
    JSON.stringify(bySender) === JSON.stringify({ alpha: 9, bravo: 8, fresh: 3 }), bySender);
  check('every item carries its mailbox and its From',
    claimed.every((l: any) => l.from?.email === `${l.sender}@seller.example`), claimed.slice(0, 2));
  const handed = first.items('Timezone Gate', 0);
  check('the gate handed all 20 to the dispatcher', handed.length === TARGET && handed.every((s: any) => s.delivery === 'corofy'),
    { sendNow: handed.length });
  const senderOf = new Map(claimed.map((l: any) => [String(l.email).toLowerCase(), l.sender as string]));
  await waitFor('the dispatcher', async () => (Object.values(inbox).flat().length >= TARGET ? true : undefined), 60_000);
  const received = Object.fromEntries(Object.entries(inbox).map(([id, mails]) => [id, mails.length]));
  report.smtpReceivedFirstRun = received;
  check('each mailbox sent its own leads: alpha 9, bravo 8, fresh 3',
    JSON.stringify(received) === JSON.stringify({ alpha: 9, bravo: 8, fresh: 3 }), received);
  const wrong = Object.entries(inbox).flatMap(([id, mails]) =>
    mails.filter((m) => senderOf.get(m.to[0]!) !== id || !m.from.includes(`<${id}@seller.example>`)).map((m) => ({ id, to: m.to, from: m.from })),
  );
  check("every email left from its lead's mailbox, with that mailbox's From", wrong.length === 0, wrong.slice(0, 3));
  const stats = await api('GET', '/v1/stats?pool=team');
  report.statsFirstRun = stats.pool;
  check('stats: the pool used its target, each mailbox within its limit',
    stats.pool.usedToday === TARGET && stats.mailboxes.every((m: any) => m.used <= m.quota) &&
      stats.mailboxes.find((m: any) => m.sender === 'fresh')?.quota === 4,
    stats);

  // 2. a burst of hard bounces on alpha (7 > 3 % of 200)
  e2e.log('a burst of hard bounces on alpha');
  for (const m of inbox.alpha!.slice(0, 7)) await api('POST', '/v1/events', { kind: 'bounce', email: m.to[0] });
  const alpha = await api('GET', '/v1/senders/alpha');
  report.alphaHealth = alpha.health;
  check('alpha is paused for its hard bounces', alpha.health.status === 'paused' && alpha.health.paused.code === 'hard_bounces',
    alpha.health);

  // 3. the next run (a higher target) sends from the others only
  await api('PUT', '/v1/pools/team', { dailyTarget: 30 });
  const before = Object.fromEntries(Object.entries(inbox).map(([id, mails]) => [id, mails.length]));
  const second = await n8nAt.execute('CorofyDailyPipe1');
  const claimedAgain = countBy(second.items('Claim Daily Batch'), (l: any) => l.sender);
  report.secondRun = { wallSeconds: seconds(second.wallMs), claimedBySender: claimedAgain };
  check('the next run claims for bravo and fresh only (the room they have left: 2 and 1)',
    JSON.stringify(claimedAgain) === JSON.stringify({ bravo: 2, fresh: 1 }), claimedAgain);
  await waitFor('the dispatcher', async () => (Object.values(inbox).flat().length >= TARGET + 3 ? true : undefined), 60_000);
  await new Promise((r) => setTimeout(r, 1000)); // anything more would have arrived by now
  const after = Object.fromEntries(Object.entries(inbox).map(([id, mails]) => [id, mails.length - before[id]!]));
  report.smtpReceivedSecondRun = after;
  check('the rest carry on: bravo 2, fresh 1, alpha nothing', JSON.stringify(after) === JSON.stringify({ alpha: 0, bravo: 2, fresh: 1 }), after);
  report.wallSeconds = seconds(Date.now() - started);
});
