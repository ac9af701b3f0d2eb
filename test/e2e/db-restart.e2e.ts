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
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { startFakeApollo } from '../../sandbox/fake-apollo';
import { startFakeFirecrawl } from '../../sandbox/fake-firecrawl';
import { startFakeOpenAI } from '../../sandbox/fake-openai';
import { postgresBinDir, startOwnPostgres, type OwnPostgres } from '../support/own-postgres';
import { ALL_DAYS_WINDOW, zonesByWindow } from '../workflows/support/zones';
import { freePort } from '../../service/test/support/network';

const execFileP = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
const INSIDE = 40;
const OUTSIDE = 20;
const QUOTA = INSIDE + OUTSIDE;
/** How long the database stays down at the gate and at the report (the service alone reconnects for ~1.5 s). */
const DOWN_MS = 3_000;

const report: Record<string, unknown> = { scenario: 'database restarts during the daily pipeline' };
const checks: Array<{ check: string; ok: boolean; detail?: unknown }> = [];
function check(name: string, ok: boolean, detail?: unknown): void {
  checks.push({ check: name, ok, ...(ok ? {} : { detail }) });
  process.stderr.write(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : ` — ${JSON.stringify(detail)}`}\n`);
}
const log = (msg: string) => process.stderr.write(`[e2e db-restart ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return await execFileP(cmd, args, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, maxBuffer: 512 * 1024 * 1024 });
}

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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
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
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-e2e-restart-'));
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    log('provisioning n8n (cached)');
    const n8nDir = (await run('bash', [path.join(REPO, 'test/e2e/provision-n8n.sh')])).stdout.trim().split('\n').pop()!;
    const n8nBin = path.join(n8nDir, 'node_modules/n8n/bin/n8n');

    log('building, packing and installing the node package');
    await run('npm', ['run', 'build']);
    const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp]);
    const tarball = path.join(tmp, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0]!.filename);
    const userFolder = path.join(tmp, 'n8n-user');
    const nodesDir = path.join(userFolder, '.n8n', 'nodes');
    fs.mkdirSync(nodesDir, { recursive: true });
    fs.writeFileSync(path.join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true }));
    await run('npm', ['install', '--legacy-peer-deps', '--no-audit', '--no-fund', tarball], { cwd: nodesDir });

    log('starting a Postgres of our own');
    const own = await startOwnPostgres();
    cleanups.push(() => own.cleanup());
    const dbUrl = own.url.replace(/\/postgres$/, '/corofy');
    const admin = new pg.Client({ connectionString: own.url });
    await admin.connect();
    await admin.query('create database corofy');
    await admin.end();

    const apollo = await startFakeApollo({ seed: 11, people: 500 });
    const openai = await startFakeOpenAI();
    const firecrawl = await startFakeFirecrawl();
    cleanups.push(() => apollo.close(), () => openai.close(), () => firecrawl.close());

    // The SMTP server's own log is the truth about what was sent.
    const received: { to: string[]; messageId: string }[] = [];
    const smtpPort = await freePort();
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      disableReverseLookup: true,
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const head = Buffer.concat(chunks).toString('utf8').split(/\r?\n\r?\n/)[0]!;
          received.push({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            messageId: /^Message-ID:\s*(.*)$/im.exec(head)?.[1]?.trim() ?? '',
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

    const servicePort = await freePort();
    const apiKey = `e2e_${randomBytes(16).toString('hex')}`;
    const serviceUrl = `http://127.0.0.1:${servicePort}`;
    const serviceLog = fs.openSync(path.join(tmp, 'service.log'), 'a');
    const service = spawn(process.execPath, ['--import', 'tsx', 'service/src/main.ts'], {
      cwd: REPO,
      env: {
        ...process.env,
        PORT: String(servicePort),
        HOST: '127.0.0.1',
        DATABASE_URL: dbUrl,
        COROFY_API_KEY: apiKey,
        COROFY_SECRET_KEY: `e2e_${randomBytes(32).toString('hex')}`,
        COROFY_PUBLIC_URL: 'https://corofy.e2e.test',
        APOLLO_API_KEY: apollo.state.apiKey,
        APOLLO_BASE_URL: apollo.url,
        OPENAI_API_KEY: 'sk-e2e',
        OPENAI_BASE_URL: openai.baseUrl,
        OPENAI_RPM: '10000',
        OPENAI_TPM: '10000000',
        FIRECRAWL_API_KEY: 'fc-e2e',
        FIRECRAWL_API_URL: firecrawl.url,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', serviceLog, serviceLog],
    });
    cleanups.push(() => stopChild(service));
    for (let i = 0; ; i++) {
      const ok = await fetch(`${serviceUrl}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 240) throw new Error('the service did not become ready');
      await sleep(250);
    }
    const api = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${serviceUrl}${p}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = (await res.json()) as any;
      if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${JSON.stringify(json)}`);
      return json;
    };

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
    cleanups.push(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

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
    const n8nEnv: NodeJS.ProcessEnv = {
      ...process.env,
      N8N_USER_FOLDER: userFolder,
      N8N_DIAGNOSTICS_ENABLED: 'false',
      N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
      N8N_PERSONALIZATION_ENABLED: 'false',
      N8N_TEMPLATES_ENABLED: 'false',
      N8N_PORT: String(await freePort()),
      N8N_LISTEN_ADDRESS: '127.0.0.1',
      N8N_RUNNERS_BROKER_PORT: String(await freePort()),
      N8N_LOG_LEVEL: 'warn',
      N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
      DB_SQLITE_POOL_SIZE: '2',
    };
    const n8n = (args: string[]) => run(process.execPath, [n8nBin, ...args], { env: n8nEnv, cwd: tmp });
    const credentials = [
      { id: 'CorofyApiE2e0001', name: 'Corofy API', type: 'corofyApi', data: { baseUrl: `http://127.0.0.1:${proxyPort}`, apiKey } },
      {
        id: 'SmtpLocalE2e0001',
        name: 'Local SMTP',
        type: 'smtp',
        data: { user: '', password: '', host: '127.0.0.1', port: smtpPort, secure: false, disableStartTls: true },
      },
    ];
    const wf = JSON.parse(fs.readFileSync(path.join(REPO, 'workflows', 'daily-pipeline.json'), 'utf8'));
    check('the shipped daily pipeline has no Retry On Fail', wf.nodes.every((n: any) => !n.retryOnFail),
      wf.nodes.filter((n: any) => n.retryOnFail).map((n: any) => n.name));
    for (const node of wf.nodes) {
      if (String(node.type).startsWith('n8n-nodes-corofy.')) node.credentials = { corofyApi: { id: credentials[0]!.id, name: 'Corofy API' } };
      if (node.type === 'n8n-nodes-base.emailSend') node.credentials = { smtp: { id: credentials[1]!.id, name: 'Local SMTP' } };
    }
    fs.writeFileSync(path.join(tmp, 'credentials.json'), JSON.stringify(credentials));
    fs.writeFileSync(path.join(tmp, 'workflows.json'), JSON.stringify([wf]));
    await n8n(['import:credentials', `--input=${path.join(tmp, 'credentials.json')}`]);
    await n8n(['import:workflow', `--input=${path.join(tmp, 'workflows.json')}`]);

    log('daily pipeline, with Postgres restarted three times under it');
    const t = Date.now();
    let exitOk = true;
    let failure = '';
    try {
      await n8n(['execute', `--id=${wf.id}`, '--rawOutput']);
    } catch (err) {
      exitOk = false;
      const e = err as { stdout?: string; message: string };
      failure = `${e.message.slice(0, 1500)}\n${(e.stdout ?? '').slice(-1500)}`;
    }
    await Promise.all(restarting);
    report.pipelineSeconds = Math.round((Date.now() - t) / 100) / 10;

    // What the execution recorded, from n8n's own database.
    const requireN8n = createRequire(path.join(n8nDir, 'node_modules', 'n8n', 'package.json'));
    const sqlite3 = requireN8n('sqlite3') as any;
    const flatted = requireN8n('flatted') as { parse(text: string): any };
    const row = await new Promise<any>((resolve, reject) => {
      const db = new sqlite3.Database(path.join(userFolder, '.n8n', 'database.sqlite'), sqlite3.OPEN_READONLY);
      db.all(
        'select e.status, d.data from execution_entity e join execution_data d on d.executionId = e.id order by e.id desc limit 1',
        (err: Error | null, rows: any[]) => {
          db.close();
          if (err) reject(err);
          else resolve(rows[0]);
        },
      );
    });
    const runData = row ? (flatted.parse(row.data).resultData.runData as Record<string, any[]>) : {};
    const items = (node: string, output = 0): any[] => (runData[node]?.[0]?.data?.main?.[output] ?? []).map((i: any) => i.json);

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
    report.totalSeconds = Math.round((Date.now() - started) / 100) / 10;
  } catch (err) {
    check('e2e ran to the end', false, String((err as Error).stack ?? err).slice(0, 4000));
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
    if (process.env.E2E_KEEP === '1') log(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
  const failed = checks.filter((c) => !c.ok);
  report.checks = checks;
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`e2e db-restart: ${checks.length - failed.length} passed, ${failed.length} failed\n`);
  process.exit(failed.length === 0 ? 0 : 1);
}

void main();
