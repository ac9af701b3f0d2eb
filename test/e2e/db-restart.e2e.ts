// End-to-end in a real n8n: the daily pipeline rides out database restarts by
// itself. The service runs on a Postgres of this test's own (never the
// machine's shared server), which is restarted with `pg_ctl … -m immediate`
// (a crash: every connection cut, WAL replayed on start) three times while the
// shipped daily pipeline runs, each time just after a node's request reached
// the service: Compose Email (restarted at once), Timezone Gate and Report Sent
// (down for 3 s, longer than the service's own reconnecting, so the nodes'
// retry carries them). The shipped workflow has no "Retry On Fail".
// Asserts: the execution succeeds, every email of the day arrives exactly once
// at the SMTP server, the stats agree with the SMTP server's log.
//
//   node --import tsx test/e2e/db-restart.e2e.ts        (part of npm run test:e2e)
//
// Environment: COROFY_E2E_CACHE (where n8n is installed once), E2E_KEEP=1 keeps
// the temporary folder.
import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { postgresBinDir, startOwnPostgres, type OwnPostgres } from '../support/own-postgres';
import { ALL_DAYS_WINDOW, zonesByWindow } from '../workflows/support/zones';
import { E2eRun, freePort, N8n, startFakeProviders, startService, startSmtpServer } from './support/harness';

const execFileP = promisify(execFile);
const INSIDE = 40;
const OUTSIDE = 20;
const QUOTA = INSIDE + OUTSIDE;
/** How long the database stays down at the gate and at the report (the service alone reconnects for ~1.5 s). */
const DOWN_MS = 3_000;

const e2e = E2eRun.start('db-restart');
const report = e2e.report;
report.description = 'database restarts during the daily pipeline';
const check = (name: string, ok: boolean, detail?: unknown) => e2e.check(name, ok, detail);
const log = (msg: string) => e2e.log(msg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * pg_ctl without blocking this process (OwnPostgres runs it synchronously): the
 * fakes and the SMTP server live in this process and must keep answering while
 * the database goes down and comes back.
 */
async function pgCtl(own: OwnPostgres, args: string[]): Promise<void> {
  const bin = postgresBinDir();
  const pgCtlPath = bin ? path.join(bin, 'pg_ctl') : 'pg_ctl';
  const logFile = path.join(path.dirname(own.dataDir), 'server.log');
  const full = [...args, '-D', own.dataDir, '-l', logFile, '-w', '-t', '120'];
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (asRoot) await execFileP('runuser', ['-u', 'postgres', '--', pgCtlPath, ...full]);
  else await execFileP(pgCtlPath, full);
}

interface Restart {
  /** The node's request that triggers it: method and path, and which one of them (1 = the first). */
  path: string;
  nth: number;
  /** How long the server stays down between stop and start. */
  downMs: number;
  node: string;
  done?: { afterMs: number; downMs: number };
}

async function main(): Promise<void> {
  {
    const n8nAt = await N8n.prepare(e2e);

    log('starting a Postgres of our own');
    const own = await startOwnPostgres();
    e2e.onCleanup(() => own.cleanup());
    const dbUrl = own.url.replace(/\/postgres$/, '/corofy');
    const admin = new pg.Client({ connectionString: own.url });
    await admin.connect();
    await admin.query('create database corofy');
    await admin.end();

    const fakes = await startFakeProviders(e2e, { seed: 11, people: 500 });

    // The SMTP server's own log is the truth about what was sent.
    const { port: smtpPort, received } = await startSmtpServer(e2e);
    const { url: serviceUrl, apiKey, api } = await startService(e2e, {
      databaseUrl: dbUrl,
      env: { ...fakes.env, COROFY_RETRY_BACKOFF_SECONDS: undefined },
    });

    // n8n reaches the service through this forwarder, which notes every answer and
    // restarts the database right after a chosen request went through to the service.
    const restarts: Restart[] = [
      { node: 'Compose Email', path: 'POST /v1/compose', nth: 2, downMs: 0 },
      { node: 'Timezone Gate', path: 'POST /v1/gate', nth: 1, downMs: DOWN_MS },
      { node: 'Report Sent', path: 'POST /v1/sends/report', nth: 1, downMs: DOWN_MS },
    ];
    const seen = new Map<string, number>();
    const answers: { path: string; status: number | 'reset' }[] = [];
    const restarting: Promise<void>[] = [];
    const proxy = http.createServer((req, res) => {
      const key = `${req.method} ${req.url?.split('?')[0]}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      const upstream = http.request(`${serviceUrl}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        answers.push({ path: key, status: up.statusCode ?? 0 });
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => {
        answers.push({ path: key, status: 'reset' });
        res.destroy();
      });
      req.pipe(upstream);
      const restart = restarts.find((r) => r.path === key && r.nth === n);
      if (restart) {
        req.on('end', () => {
          const at = Date.now();
          log(`restarting Postgres -m immediate during ${restart.node} (down ${restart.downMs} ms)`);
          restarting.push(
            (async () => {
              await sleep(20); // the request is in the service now
              const down = Date.now();
              await pgCtl(own, ['stop', '-m', 'immediate']);
              await sleep(restart.downMs);
              await pgCtl(own, ['start']);
              restart.done = { afterMs: down - at, downMs: Date.now() - down };
            })(),
          );
        });
      }
    });
    const proxyPort = await freePort();
    await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));
    e2e.onCleanup(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

    // the day's leads: some recipients inside their window now, some before it opens
    const { inside, outside, senderZone } = zonesByWindow();
    await api('PUT', '/v1/senders/default', {
      dailyQuota: QUOTA,
      timezone: senderZone,
      ...ALL_DAYS_WINDOW,
      fromName: 'Corofy E2E',
      fromEmail: 'outreach@seller.example',
      postalAddress: '1 Harbour Road, Rotterdam, NL',
    });
    const tag = Date.now().toString(36);
    const lead = (kind: 'in' | 'out', i: number, zones: string[]) => ({
      email: `${kind}${i}-${tag}@company${i % 17}.example`,
      firstName: `${kind === 'in' ? 'Ines' : 'Otto'}${i}`,
      companyName: `Company ${i % 17}`,
      industry: 'lubricants',
      timezone: zones[i % zones.length]!,
    });
    const insideLeads = Array.from({ length: INSIDE }, (_, i) => lead('in', i, inside));
    const outsideLeads = Array.from({ length: OUTSIDE }, (_, i) => lead('out', i, outside));
    const imported = await api('POST', '/v1/leads/import', { leads: [...insideLeads, ...outsideLeads] });
    check(`${QUOTA} leads imported`, imported.imported === QUOTA, imported);

    // n8n: credentials and the shipped daily pipeline
    const credentials = [
      { id: 'CorofyApiE2e0001', name: 'Corofy API', type: 'corofyApi', data: { baseUrl: `http://127.0.0.1:${proxyPort}`, apiKey } },
      {
        id: 'SmtpLocalE2e0001',
        name: 'Local SMTP',
        type: 'smtp',
        data: { user: '', password: '', host: '127.0.0.1', port: smtpPort, secure: false, disableStartTls: true },
      },
    ];
    const [wf] = await n8nAt.importWorkflows({
      credentials,
      corofyCredentialId: 'CorofyApiE2e0001',
      credentialFor: { 'n8n-nodes-base.emailSend': 'SmtpLocalE2e0001' },
      workflows: ['daily-pipeline.json'],
    });
    check('the shipped daily pipeline has no Retry On Fail', wf.nodes.every((n: any) => !n.retryOnFail),
      wf.nodes.filter((n: any) => n.retryOnFail).map((n: any) => n.name));

    log('daily pipeline, with Postgres restarted three times under it');
    const t = Date.now();
    let exitOk = true;
    let failure = '';
    try {
      await n8nAt.cli(['execute', `--id=${wf.id}`, '--rawOutput']);
    } catch (err) {
      exitOk = false;
      const e = err as { stdout?: string; message: string };
      failure = `${e.message.slice(0, 1500)}\n${(e.stdout ?? '').slice(-1500)}`;
    }
    await Promise.all(restarting);
    report.pipelineSeconds = Math.round((Date.now() - t) / 100) / 10;

    // What the execution recorded, from n8n's own database.
    const recorded = await n8nAt.lastRun();
    const row = { status: recorded.status };
    const items = recorded.items;

    report.restarts = restarts.map(({ node, downMs, done }) => ({ node, plannedDownMs: downMs, ...done }));
    report.answers = Object.fromEntries(
      [...seen.keys()].map((k) => [k, answers.filter((a) => a.path === k).map((a) => a.status).join(',')]),
    );
    check('the database was restarted at Compose Email, Timezone Gate and Report Sent', restarts.every((r) => r.done), report.restarts);
    const unavailable = answers.filter((a) => a.status === 503 || a.status === 'reset');
    report.unavailableAnswers = unavailable.length;
    check('the restarts reached the nodes (503 answers they had to ride out)', unavailable.length > 0, report.answers);
    check('the execution succeeded', exitOk && row?.status === 'success', { status: row?.status, failure });

    const sendNow = items('Timezone Gate', 0);
    const scheduled = items('Timezone Gate', 1);
    report.nodes = {
      claimed: items('Claim Daily Batch').length,
      composed: items('Compose Email').length,
      sendNow: sendNow.length,
      scheduled: scheduled.length,
      reportSent: items('Report Sent').length,
      reportFailed: items('Report Failed').length,
    };
    check(`the gate handed out the ${INSIDE} inside recipients and scheduled the ${OUTSIDE} others`,
      sendNow.length === INSIDE && scheduled.length === OUTSIDE && scheduled.every((s: any) => s.gate === 'scheduled'), report.nodes);

    const insideSet = new Set(insideLeads.map((l) => l.email.toLowerCase()));
    const byRecipient = new Map<string, number>();
    for (const m of received) for (const to of m.to) byRecipient.set(to, (byRecipient.get(to) ?? 0) + 1);
    check('every email of the day arrived exactly once at the SMTP server',
      [...insideSet].every((e) => byRecipient.get(e) === 1) && received.every((m) => m.to.length === 1),
      [...insideSet].filter((e) => byRecipient.get(e) !== 1).slice(0, 5));
    check('nothing to anyone outside their window', [...byRecipient.keys()].every((e) => insideSet.has(e)));
    check('Message-IDs are unique', new Set(received.map((m) => m.messageId)).size === received.length);

    const s = await api('GET', '/v1/stats?sender=default');
    report.stats = s;
    check('stats agree with the SMTP log',
      s.sent === received.length && s.sending === 0 && s.needsReview === 0 && s.scheduled === OUTSIDE && s.failed === 0,
      { stats: s, smtp: received.length });
    report.smtpReceived = received.length;
  }
}

void e2e.main(main);
