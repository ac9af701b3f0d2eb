// One day of the shipped daily pipeline (workflows/daily-pipeline.json) run by
// n8n's own engine (n8n-core WorkflowExecute) with our nodes, against the service
// in sandbox mode (local fakes of Apollo, OpenAI at tier-1 limits, Firecrawl) on
// the embedded database, delivering to a local SMTP catcher.
//   npm run demo                 (DEMO_QUOTA=400 for a full day)
// In a terminal it then keeps the service running for the status page; otherwise
// (CI) it exits: 0 when the summary adds up and equals GET /v1/stats, 1 if not.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { createLogger } from '../service/src/app/logger';
import { loadConfig } from '../service/src/config/env';
import { startService } from '../service/src/server';
import type { StatusToday } from '../service/src/status/status-data';
// The nodes are imported by their .ts file names: "X.node" alone would resolve to the codex X.node.json under tsx.
import { Outbox, readWorkflow, runWorkflow } from '../test/workflows/support/workflow-runner';
import { SANDBOX_OPENAI_LIMITS, seedSandboxProfile, startSandboxProviders } from './sandbox-providers';

const DATA_DIR = path.resolve(process.env.INIT_CWD ?? process.cwd(), process.env.DEMO_DATA_DIR ?? '.corofy/demo');
const QUOTA = Number(process.env.DEMO_QUOTA ?? 40);
const TTY = process.stdout.isTTY === true;

const OUTPUT_NAMES: Record<string, string[]> = { 'Timezone Gate': ['send now', 'scheduled'], 'Compose Email': ['composed', 'failed'] };

const say = (line = '') => process.stdout.write(`${line}\n`);

/** One progress line: redrawn in place in a terminal, printed once when done otherwise. */
function progress(label: string, done: number, total: number, final = false) {
  const width = 30;
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  const line = `   ${label.padEnd(18)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
  if (TTY) process.stdout.write(`\r${line}${final ? '\n' : ''}`);
  else if (final) say(line);
}

async function startMailCatcher() {
  const received: { to: string[]; size: number }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let size = 0;
      stream.on('data', (c: Buffer) => (size += c.length));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), size });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function main(): Promise<number> {
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  const started = performance.now();
  const base = loadConfig({ COROFY_DATA_DIR: DATA_DIR, PORT: '0', LOG_LEVEL: 'warn', COROFY_SWEEP_INTERVAL_MS: '0', COROFY_SANDBOX: 'true' });
  const sandbox = await startSandboxProviders(base);
  // the sender is configured just below: its start-up warning would only confuse here
  const service = await startService(sandbox.config, createLogger('error'));
  await seedSandboxProfile(service.deps.db);
  const catcher = await startMailCatcher();
  // pooled: one SMTP connection for the day's emails instead of a new one per email
  const smtp = nodemailer.createTransport({ pool: true, maxConnections: 1, host: '127.0.0.1', port: catcher.port, secure: false, ignoreTLS: true });
  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${service.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${service.apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    if (!res.ok) throw new Error(`${method} ${route} → ${res.status} ${json.code}: ${json.detail}`);
    return json;
  };
  let keepRunning = false;
  try {
    say(`Corofy demo: workflows/daily-pipeline.json in n8n's engine, embedded database in ${path.relative(process.cwd(), DATA_DIR) || DATA_DIR}`);
    say(`service ${service.url} (sandbox: fake Apollo, OpenAI at 500 RPM / 200k TPM, Firecrawl); mail catcher smtp://127.0.0.1:${catcher.port}`);
    await api('PUT', '/v1/senders/default', {
      dailyQuota: QUOTA,
      timezone: 'Europe/Berlin',
      fromName: 'Dana Weber',
      fromEmail: 'dana@corofy-demo.example',
      postalAddress: 'Corofy Demo GmbH, Hauptstr. 1, 10115 Berlin, Germany',
    });
    say(`sender "default": ${QUOTA} emails a day, Mon–Fri 09:00–17:00 in each recipient's own time zone\n`);

    const outbox = new Outbox();
    let claimed = 0;
    let toSend = 0;
    outbox.deliver = async (mail) => {
      await smtp.sendMail({ from: mail.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: mail.messageId });
      progress('Send Email', outbox.sent.length + 1, toSend);
    };
    // Compose Email sends up to 50 leads a request: its progress is the service's count of drafts written today.
    let composeTimer: NodeJS.Timeout | undefined;
    const composed = async () => {
      const t = await service.deps.db.call<StatusToday>('status_today', { p_now: new Date() });
      return t.composed.catalog + t.composed.website + t.composed.generic;
    };
    const nodeStarted = new Map<string, number>();
    const nodeSeconds: Record<string, number> = {};
    const run = await runWorkflow(readWorkflow('daily-pipeline.json'), {
      baseUrl: service.url,
      apiKey: service.apiKey,
      outbox,
      startNode: 'Run Now',
      executionId: 'demo',
      onNode: (phase, node, items) => {
        if (phase === 'start') {
          nodeStarted.set(node, performance.now());
          if (node === 'Compose Email') {
            composeTimer = setInterval(() => void composed().then((n) => progress('Compose Email', n, claimed)), 250);
          }
          return;
        }
        if (node === 'Compose Email') {
          clearInterval(composeTimer);
          void composed().then((n) => progress('Compose Email', n, claimed, true));
        }
        if (node === 'Claim Daily Batch') claimed = items?.[0] ?? 0;
        if (node === 'Timezone Gate') toSend = items?.[0] ?? 0;
        if (node === 'Send Email') progress('Send Email', outbox.sent.length, toSend, true);
        const secs = ((performance.now() - (nodeStarted.get(node) ?? performance.now())) / 1000).toFixed(1);
        nodeSeconds[node] = Number(secs);
        const names = OUTPUT_NAMES[node] ?? ['main', 'error'];
        const out = (items ?? []).map((n, i) => (items!.length > 1 ? `${names[i] ?? i}: ${n}` : `${n}`)).join(', ');
        say(`✓ ${node.padEnd(18)} ${secs.padStart(5)} s   items out: ${out}`);
      },
    });
    const failedNode = Object.entries(run.run.data.resultData.runData).find(([, r]) => r[0]?.error);
    if (failedNode) throw new Error(`node "${failedNode[0]}" failed: ${failedNode[1][0]!.error!.message}`);

    const emails = run.output('Compose Email');
    const composeFailed = run.output('Compose Email', 1);
    const sendNow = run.output('Timezone Gate', 0);
    const scheduled = run.output('Timezone Gate', 1).filter((s) => s.sendId);
    const reportedSent = run.output('Report Sent');
    const reportedFailed = run.output('Report Failed');
    const search = run.output('Apollo Search')[0] ?? {};

    say(`\nApollo: ${search.leadsAdded ?? 0} leads bought for ${search.creditsUsed ?? 0} credits (${search.duplicatesSkipped ?? 0} duplicates skipped)`);
    say('A sample of each compose source:');
    for (const source of ['catalog', 'website', 'generic']) {
      const e = emails.find((x) => x.source === source);
      const count = emails.filter((x) => x.source === source).length;
      say(`  ${source.padEnd(8)} ${String(count).padStart(4)}  ${e ? `"${e.subject}" → ${String(e.text).split('\n').find((l) => l.trim() && !/^(hi|hello|dear)\b/i.test(l.trim()))?.slice(0, 90) ?? ''}` : '(none today)'}`);
    }

    say("The gate's decisions by recipient time zone:");
    const zones = new Map<string, { now: number; later: number; first?: string }>();
    for (const [list, key] of [[sendNow, 'now'], [scheduled, 'later']] as const) {
      for (const s of list) {
        const z = zones.get(String(s.timezone)) ?? { now: 0, later: 0 };
        z[key] += 1;
        if (key === 'later' && (!z.first || String(s.localTime) < z.first)) z.first = String(s.localTime);
        zones.set(String(s.timezone), z);
      }
    }
    say(`  ${'time zone'.padEnd(24)} ${'now'.padStart(5)} ${'later'.padStart(6)}  first scheduled (local)`);
    for (const [zone, z] of [...zones.entries()].sort((a, b) => b[1].now + b[1].later - a[1].now - a[1].later)) {
      say(`  ${zone.padEnd(24)} ${String(z.now).padStart(5)} ${String(z.later).padStart(6)}  ${z.first?.slice(0, 16).replace('T', ' ') ?? ''}`);
    }

    // The pipeline's own numbers, then the service's for every day they landed on.
    const pipeline = {
      claimed,
      sentNow: reportedSent.length,
      scheduled: scheduled.length,
      failed: composeFailed.length + reportedFailed.length,
      cancelled: 0,
    };
    const today = await api('GET', '/v1/stats');
    const days = [...new Set([today.day, ...scheduled.map((s) => String(s.day))])].sort();
    const perDay = await Promise.all(days.map((d) => api('GET', `/v1/stats?day=${d}`)));
    const sum = (k: string) => perDay.reduce((a, st) => a + Number(st[k]), 0);
    const stats = {
      claimed: today.batchedLeads,
      sentNow: sum('sent') + sum('sending'),
      scheduled: sum('scheduled'),
      // a lead that could not be composed stays claimed for its day; a failed send is failed or dead
      failed: today.claimed + sum('failed') + sum('dead') + sum('needsReview'),
      cancelled: sum('cancelled'),
    };
    const addsUp = pipeline.claimed === pipeline.sentNow + pipeline.scheduled + pipeline.failed + pipeline.cancelled;
    const equal = (Object.keys(pipeline) as (keyof typeof pipeline)[]).every((k) => pipeline[k] === stats[k]);
    say(`\nSummary (GET /v1/stats over ${days.join(', ')}):`);
    say(`  claimed ${pipeline.claimed} = sent now ${pipeline.sentNow} + scheduled ${pipeline.scheduled} + failed ${pipeline.failed} + cancelled ${pipeline.cancelled}  ${addsUp ? '✓ adds up' : '✗ DOES NOT ADD UP'}`);
    say(`  the service says: claimed ${stats.claimed}, sent ${stats.sentNow}, scheduled ${stats.scheduled}, failed ${stats.failed}, cancelled ${stats.cancelled}  ${equal ? '✓ equal' : '✗ DIFFERENT'}`);
    // Where the time went: each node, and compose's floor at the sandbox's tier-1
    // token limit (every token the drafts cost, paid at 200k a minute).
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const tokens = today.compose?.totalTokens ?? 0;
    const timing = {
      seconds,
      nodes: nodeSeconds,
      compose: {
        requests: today.compose?.requests ?? 0,
        tokens,
        tokensPerEmail: emails.length > 0 ? Math.round(tokens / emails.length) : 0,
        tpmFloorSeconds: Math.round((tokens / SANDBOX_OPENAI_LIMITS.tpm) * 600) / 10,
      },
    };
    say(`  quota ${today.quota}, used ${today.used}, remaining ${today.remaining}; ${catcher.received.length} emails in the mail catcher; ${seconds} s in all`);
    say(`  compose: ${timing.compose.requests} OpenAI requests, ${tokens} tokens (${timing.compose.tokensPerEmail} an email): at ${SANDBOX_OPENAI_LIMITS.tpm / 1000}k tokens a minute that alone takes ${timing.compose.tpmFloorSeconds} s`);
    if (!TTY) say(`summary ${JSON.stringify({ pipeline, stats, days, caught: catcher.received.length, timing })}`);
    if (!addsUp || !equal || catcher.received.length !== pipeline.sentNow) return 1;

    if (TTY) {
      keepRunning = true;
      say(`\nThe status page: ${service.url}/   (sign in with the API key ${service.apiKey})`);
      say(`API docs: ${service.url}/docs   — Ctrl-C stops the service.`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      keepRunning = false;
    }
    return 0;
  } finally {
    if (!keepRunning) {
      smtp.close();
      await service.close();
      await sandbox.close();
      await catcher.close();
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
