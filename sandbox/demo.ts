// The product's main job, end to end, on the embedded database with local fakes
// of Apollo, OpenAI and Firecrawl: one day of the daily pipeline as the n8n
// workflow runs it, through the service's real HTTP API.
//   npm run demo
import fs from 'node:fs';
import path from 'node:path';
import { createLogger } from '../service/src/app/logger';
import { loadConfig } from '../service/src/config/env';
import { startService } from '../service/src/server';
import { startSandboxProviders } from './sandbox-providers';

const DATA_DIR = path.resolve(process.env.INIT_CWD ?? process.cwd(), '.corofy/demo');
const QUOTA = Number(process.env.DEMO_QUOTA ?? 40);

function say(line = '') {
  process.stdout.write(`${line}\n`);
}

async function main() {
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  const base = loadConfig({ COROFY_DATA_DIR: DATA_DIR, PORT: '0', LOG_LEVEL: 'warn', COROFY_SWEEP_INTERVAL_MS: '0' });
  const sandbox = await startSandboxProviders(base);
  const service = await startService(sandbox.config, createLogger('warn'));
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

  try {
    say(`Corofy demo — embedded database in ${path.relative(process.cwd(), DATA_DIR)}, sandbox providers`);
    say(`service: ${service.url}`);
    await api('PUT', '/v1/senders/default', {
      dailyQuota: QUOTA,
      timezone: 'Europe/Berlin',
      fromName: 'Dana Weber',
      fromEmail: 'dana@corofy-demo.example',
      postalAddress: 'Corofy Demo GmbH, Hauptstr. 1, 10115 Berlin, Germany',
    });
    say(`\n1. Sender "default": ${QUOTA} emails a day, Mon–Fri 09:00–17:00 in each recipient's own time zone`);

    const search = await api('POST', '/v1/searches', {
      leadsWanted: QUOTA + 10,
      filters: { personTitles: ['purchasing manager', 'head of procurement'] },
    });
    say(
      `2. Apollo search: ${search.leadsAdded} leads added for ${search.creditsUsed} credits ` +
        `(${search.pagesFetched} page(s), ${search.duplicatesSkipped} duplicates skipped)`,
    );

    const batch = await api('POST', '/v1/batches/claim', { idempotencyKey: 'demo-day-1' });
    const again = await api('POST', '/v1/batches/claim', { idempotencyKey: 'demo-day-1' });
    const more = await api('POST', '/v1/batches/claim', { idempotencyKey: 'demo-day-1-second-click' });
    say(
      `3. Daily batch for ${batch.day}: ${batch.leads.length} leads (ids ${batch.leads[0]?.id}–${batch.leads.at(-1)?.id}); ` +
        `the same click again returns the same ${again.leads.length}; a new claim today gets ${more.leads.length} (quota used up)`,
    );

    const leadIds: string[] = batch.leads.map((l: { id: string }) => l.id);
    const emails: any[] = [];
    const failed: any[] = [];
    for (let i = 0; i < leadIds.length; i += 50) {
      const r = await api('POST', '/v1/compose', { leadIds: leadIds.slice(i, i + 50) });
      emails.push(...r.emails);
      failed.push(...r.failed);
    }
    const bySource = emails.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.source]: (acc[e.source] ?? 0) + 1 }), {});
    say(`4. Composed ${emails.length} emails (${Object.entries(bySource).map(([k, v]) => `${v} ${k}`).join(', ')}), ${failed.length} failed`);
    const sample = emails.find((e) => e.source === 'catalog') ?? emails[0];
    if (sample) {
      say(`   e.g. to lead ${sample.leadId}: "${sample.subject}"`);
      say(`   ${sample.text.split('\n').slice(0, 3).join('\n   ')}`);
    }

    const composedIds = emails.map((e) => e.leadId);
    const gate = await api('POST', '/v1/gate', { leadIds: composedIds });
    say(`5. Timezone gate: ${gate.sendNow.length} inside their recipient's business hours now, ${gate.scheduled.length} scheduled`);
    for (const s of gate.scheduled.slice(0, 3)) {
      say(`   ${s.to.padEnd(40)} ${s.timezone.padEnd(22)} at ${s.localTime} local (${s.sendAt} UTC)`);
    }

    // n8n's Send Email node would send these; the demo reports them as sent.
    if (gate.sendNow.length > 0) {
      const report = await api('POST', '/v1/sends/report', {
        results: gate.sendNow.map((s: { sendId: string }) => ({
          sendId: s.sendId,
          status: 'sent',
          messageId: `<demo-${s.sendId}@corofy-demo.example>`,
        })),
      });
      say(`6. Sent now (as n8n's SMTP node would, then reported): ${report.recorded}`);
    } else {
      say('6. Nothing to send right now: every recipient is outside business hours (weekend or night there)');
    }

    const replied = gate.scheduled[0] ?? gate.sendNow[0];
    if (replied) {
      const event = await api('POST', '/v1/events', {
        kind: 'reply',
        email: replied.to,
        subject: 'Re: your email',
        text: 'Thanks, not for us.',
      });
      say(`7. ${replied.to} replied: lead is now "${event.status}", ${event.cancelledSends} scheduled send(s) cancelled`);
    }

    const days = [...new Set([batch.day, ...gate.scheduled.map((s: { day: string }) => s.day)])].slice(0, 3);
    say('8. Stats per sender-local day:');
    for (const day of days) {
      const st = await api('GET', `/v1/stats?day=${day}`);
      say(
        `   ${day}: quota ${st.quota}, scheduled ${st.scheduled}, sent ${st.sent}, replied ${st.replied}, ` +
          `Apollo credits ${st.apolloCreditsUsed}`,
      );
    }
    say(`\nThe n8n workflows in workflows/ run this same pipeline every weekday; see the README.`);
  } finally {
    await service.close();
    await sandbox.close();
  }
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
