// End-to-end in a real n8n: Corofy sends through the sender's own mailbox and
// reads it (issues 13 and 14).
//
// Outbound: the shipped daily pipeline, for a sender on `corofy` delivery,
// hands the emails due now to the service's dispatcher, which delivers them to
// a real local SMTP server (smtp-server, with a login) — checked from what that
// server received: the one-click unsubscribe pair, our Message-ID (the one
// stored on the send), From/To/Date, text plus HTML, each send once, nothing
// outside the recipient's window, nothing through n8n's Send Email.
//
// Inbound: the sender's mailbox is a real Dovecot that the service's watcher
// reads; the shipped "tell me when a lead replies" workflow (Corofy Trigger) is
// active in `n8n start`. A reply APPENDed to the mailbox stops the lead (its
// scheduled follow-up is cancelled) and fires that workflow (its email to the
// sender arrives); a hard bounce suppresses the address; a webhook call with a
// bad signature is refused by the trigger.
//
//   node --import tsx test/e2e/mailboxes.e2e.ts        (part of npm run test:e2e)
import pg from 'pg';
import { createHmac, randomBytes } from 'node:crypto';
import { startDovecot, PASSWORD } from '../../service/test/inbound/dovecot';
import { ALL_DAYS_WINDOW, localHour, zonesByWindow } from '../workflows/support/zones';
import { createDatabase, E2eRun, N8n, type ReceivedMail, startFakeProviders, startService, startSmtpServer, waitFor } from './support/harness';

const INSIDE = 12;
const OUTSIDE = 12;
const QUOTA = INSIDE + OUTSIDE;
const FROM_EMAIL = 'outreach@seller.example';
const MAILBOX_USER = 'outreach@seller.example';
const MAILBOX_PASSWORD = `mailbox-${randomBytes(6).toString('hex')}`;
const NOTIFY_TO = 'sales@example.com'; // where workflows/reply-notification.json sends its notice

const e2e = E2eRun.start('mailboxes');

void e2e.main(async () => {
  const n8n = await N8n.prepare(e2e);
  // the Corofy Trigger registers the URL n8n gives it: n8n listens on 127.0.0.1 only
  n8n.env.WEBHOOK_URL = `${n8n.url}/`;
  const databaseUrl = await createDatabase(e2e);
  const fakes = await startFakeProviders(e2e, { seed: 7, people: 500 });

  // The sender's own mailbox: an SMTP server that wants its login, and Dovecot.
  const logins: string[] = [];
  const smtp = await startSmtpServer(e2e, {
    auth(auth, _session, callback) {
      logins.push(auth.username ?? '');
      if (auth.username === MAILBOX_USER && auth.password === MAILBOX_PASSWORD) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('5.7.8 Username and Password not accepted'), { responseCode: 535 }));
    },
  });
  const dovecot = await startDovecot([MAILBOX_USER]);
  e2e.onCleanup(() => dovecot.cleanup());

  const service = await startService(e2e, {
    databaseUrl,
    env: {
      ...fakes.env,
      COROFY_DISPATCH_INTERVAL_MS: '250',
      COROFY_IMAP_SCAN_INTERVAL_MS: '500',
      COROFY_IMAP_POLL_SECONDS: '2',
      COROFY_WEBHOOK_INTERVAL_MS: '250',
    },
  });
  const { api } = service;
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  e2e.onCleanup(() => db.end());

  // 1. the sender on corofy delivery, its mailbox verified
  const { inside, outside, senderZone } = zonesByWindow();
  e2e.report.zones = { senderZone, inside, outside };
  const sender = await api('PUT', '/v1/senders/default', {
    dailyQuota: QUOTA,
    timezone: senderZone,
    ...ALL_DAYS_WINDOW,
    fromName: 'Corofy E2E',
    fromEmail: FROM_EMAIL,
    postalAddress: '1 Harbour Road, Rotterdam, NL',
    unsubscribeEmail: 'unsubscribe@seller.example',
    delivery: 'corofy',
    smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none', user: MAILBOX_USER, password: MAILBOX_PASSWORD },
    imap: { host: dovecot.host, port: dovecot.port, tls: 'none', user: MAILBOX_USER, password: PASSWORD },
  });
  e2e.check('the sender answers without its secrets', !JSON.stringify(sender).includes(MAILBOX_PASSWORD) &&
    sender.smtp?.passwordSet === true && sender.imap?.passwordSet === true, sender);
  const verified = await api('POST', '/v1/senders/default/verify');
  e2e.check('verify: the SMTP and the IMAP server accept the login', verified.smtp?.ok === true && verified.imap?.ok === true, verified);
  const health = await waitFor('the watcher connected', async () => {
    const s = await api('GET', '/v1/senders/default');
    return s.mailbox?.inbound?.connected ? s.mailbox : undefined;
  }, 60_000).catch((err: Error) => ({ error: err.message }));
  e2e.report.mailboxHealth = health;
  e2e.check('health: the watcher is connected, the last verify passed',
    (health as any).inbound?.connected === true && (health as any).outbound?.lastVerify?.ok === true &&
      (health as any).inbound?.lastVerify?.ok === true, health);

  // 2. the day's leads: recipients inside their window now, others before it opens
  const tag = Date.now().toString(36);
  const lead = (kind: 'in' | 'out', i: number, zones: string[]) => ({
    email: `${kind}${i}-${tag}@company${i}.example`,
    firstName: `${kind === 'in' ? 'Ines' : 'Otto'}${i}`,
    lastName: 'Buyer',
    companyName: `Company ${i}`,
    industry: 'lubricants',
    timezone: zones[i % zones.length]!,
  });
  const insideLeads = Array.from({ length: INSIDE }, (_, i) => lead('in', i, inside));
  const outsideLeads = Array.from({ length: OUTSIDE }, (_, i) => lead('out', i, outside));
  const imported = await api('POST', '/v1/leads/import', { leads: insideLeads.flatMap((l, i) => [l, outsideLeads[i]!]) });
  e2e.check(`${QUOTA} leads imported`, imported.imported === QUOTA, imported);

  // 3. n8n: the Corofy API credential, an SMTP credential for the notice, the workflows
  const credentials = [
    { id: 'CorofyApiE2e0001', name: 'Corofy API', type: 'corofyApi', data: { baseUrl: service.url, apiKey: service.apiKey } },
    {
      id: 'SmtpLocalE2e0001',
      name: 'Local SMTP',
      type: 'smtp',
      data: { user: '', password: '', host: '127.0.0.1', port: smtp.port, secure: false, disableStartTls: true },
    },
  ];
  await n8n.importWorkflows({
    credentials,
    corofyCredentialId: 'CorofyApiE2e0001',
    credentialFor: { 'n8n-nodes-base.emailSend': 'SmtpLocalE2e0001' },
    workflows: ['daily-pipeline.json', 'reply-notification.json'],
  });

  // 4. the daily pipeline: the gate hands the emails due now to the dispatcher
  e2e.log('daily pipeline, first run');
  const first = await n8n.execute('CorofyDailyPipe1');
  const sendNow = first.items('Timezone Gate', 0);
  const scheduled = first.items('Timezone Gate', 1);
  e2e.report.dailyPipeline = { wallSeconds: first.wallMs / 1000, sendNow: sendNow.length, scheduled: scheduled.length };
  const insideSet = new Set(insideLeads.map((l) => l.email.toLowerCase()));
  const outsideSet = new Set(outsideLeads.map((l) => l.email.toLowerCase()));
  e2e.check('gate: every inside recipient is handed to the dispatcher (delivery corofy)',
    sendNow.length === INSIDE && sendNow.every((s: any) => insideSet.has(s.to) && s.delivery === 'corofy'),
    sendNow.map((s: any) => ({ to: s.to, delivery: s.delivery, status: s.status })));
  e2e.check('gate: every outside recipient is scheduled for its window',
    scheduled.length === OUTSIDE && scheduled.every((s: any) => outsideSet.has(s.to)), { scheduled: scheduled.length });
  e2e.check("n8n's Send Email did not run (nobody downstream sends a corofy sender's email)",
    !first.ran('Send Email') && first.items('Sent by n8n?', 0).length === 0);

  const delivered = await waitFor('the dispatcher to deliver the inside emails', async () =>
    smtp.received.filter((m) => insideSet.has(m.to[0]!)).length >= INSIDE ? true : undefined, 120_000).catch(() => false);
  e2e.check('the SMTP server received the inside emails', delivered === true, { received: smtp.received.length });
  e2e.check('the dispatcher logged in to the mailbox with its password', logins.length > 0 && logins.every((u) => u === MAILBOX_USER), logins);

  e2e.log('daily pipeline, second run (same day)');
  const second = await n8n.execute('CorofyDailyPipe1');
  e2e.check('second run: nothing claimed', second.items('Claim Daily Batch').length === 0, second.items('Quota Left Today')[0]);
  // a few dispatcher ticks: anything that would go out twice goes out now
  await new Promise((r) => setTimeout(r, 3000));
  const outbound = smtp.received.filter((m) => m.to[0] !== NOTIFY_TO);
  const byRecipient = new Map<string, ReceivedMail[]>();
  for (const m of outbound) for (const to of m.to) byRecipient.set(to, [...(byRecipient.get(to) ?? []), m]);
  e2e.check('each inside recipient got exactly one email, one recipient per message',
    [...insideSet].every((e) => byRecipient.get(e)?.length === 1) && outbound.every((m) => m.to.length === 1),
    [...insideSet].filter((e) => byRecipient.get(e)?.length !== 1));
  e2e.check('nothing to a recipient outside their window', [...byRecipient.keys()].every((e) => insideSet.has(e)),
    [...byRecipient.keys()].filter((e) => !insideSet.has(e)));
  const zoneOf = new Map([...insideLeads, ...outsideLeads].map((l) => [l.email.toLowerCase(), l.timezone]));
  const late = outbound.filter((m) => {
    const h = localHour(zoneOf.get(m.to[0]!)!, m.receivedAt);
    return !(h >= 9 && h < 17);
  });
  e2e.check('every email arrived inside its recipient’s 09:00–17:00', late.length === 0, late.map((m) => m.to));

  // 5. the headers, from what the server received, against what Corofy stored
  const sent = (await api('GET', '/v1/sends?status=sent&limit=500')).sends as any[];
  const storedId = new Map(sent.map((s) => [s.to, s.messageId]));
  const headerProblems = outbound.flatMap((m) => {
    const to = m.to[0]!;
    const problems: string[] = [];
    const listUnsubscribe = m.header('List-Unsubscribe');
    if (!/^<https:\/\/corofy\.e2e\.test\/unsubscribe\/[^>\s]+>,\s*<mailto:unsubscribe@seller\.example[^>]*>$/.test(listUnsubscribe)) {
      problems.push(`List-Unsubscribe: ${listUnsubscribe}`);
    }
    if (m.header('List-Unsubscribe-Post') !== 'List-Unsubscribe=One-Click') problems.push(`List-Unsubscribe-Post: ${m.header('List-Unsubscribe-Post')}`);
    const id = m.messageId.replace(/^<|>$/g, '');
    if (!id.endsWith('@seller.example') || storedId.get(to) !== id) problems.push(`Message-ID ${m.messageId} vs stored ${storedId.get(to)}`);
    if (!/^"?Corofy E2E"? <outreach@seller\.example>$/.test(m.from)) problems.push(`From: ${m.from}`);
    if (m.header('To').toLowerCase().replace(/^<|>$/g, '') !== to) problems.push(`To: ${m.header('To')}`);
    const date = Date.parse(m.header('Date'));
    if (Number.isNaN(date) || Math.abs(date - m.receivedAt.getTime()) > 120_000) problems.push(`Date: ${m.header('Date')}`);
    if (!/^multipart\/alternative/i.test(m.header('Content-Type'))) problems.push(`Content-Type: ${m.header('Content-Type')}`);
    if (m.text.trim() === '' || m.html.trim() === '') problems.push('text or HTML part empty');
    if (/<img\b/i.test(m.html)) problems.push('an image (tracking pixel) in the HTML');
    if (m.header('In-Reply-To') !== '' || m.header('References') !== '') problems.push('a first step names a thread');
    return problems.length ? [{ to, problems }] : [];
  });
  e2e.check('headers: one-click unsubscribe pair, our stored Message-ID, From/To/Date, text + HTML, no pixel',
    outbound.length === INSIDE && headerProblems.length === 0, headerProblems.slice(0, 3));
  // the one-click link works as a mailbox provider uses it (RFC 8058: a POST with List-Unsubscribe=One-Click)
  const optOut = insideLeads[2]!.email.toLowerCase();
  const link = /<(https:[^>]+)>/.exec(byRecipient.get(optOut)![0]!.header('List-Unsubscribe'))![1]!;
  const oneClick = await fetch(link.replace('https://corofy.e2e.test', service.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  const optedOut = ((await api('GET', '/v1/suppressions')).suppressions as any[]).some((x) => x.value === optOut);
  e2e.check('the List-Unsubscribe link, posted one-click, suppresses its recipient', oneClick.ok && optedOut,
    { status: oneClick.status, optedOut });
  const stats = await api('GET', '/v1/stats?sender=default');
  e2e.check('stats agree with the SMTP server', stats.sent === INSIDE && stats.sending === 0 && stats.scheduled === OUTSIDE, stats);

  // 6. the reply notification workflow, active in n8n start; the Corofy Trigger registers itself
  e2e.log('publishing the reply notification workflow and starting n8n');
  await n8n.cli(['publish:workflow', '--id=CorofyReplyNotify1']);
  await n8n.start();
  const hook = await waitFor('the Corofy Trigger to register its webhook', async () => {
    const list = (await api('GET', '/v1/webhooks')).webhooks as any[];
    return list.find((w) => w.url.startsWith(n8n.url));
  }, 90_000);
  e2e.check('the Corofy Trigger registered its webhook for replies', hook.events.join(',') === 'reply', hook);

  // 7. a reply in the mailbox stops the lead: its scheduled follow-up is cancelled
  const replier = insideLeads[0]!.email.toLowerCase();
  const replierMail = byRecipient.get(replier)![0]!;
  const replierSend = sent.find((s) => s.to === replier);
  // the follow-up a sequence schedules after step 1 (three days later), as the inbound tests do
  const followUpAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
  await db.query(`select ledger_adjust('default', (($1::timestamptz) at time zone $2)::date, 0, 1, 0)`, [followUpAt, senderZone]);
  await db.query(
    `insert into sends (lead_id, step, sender_id, day, status, to_email, subject, text, html, timezone, timezone_source, send_at, window_end)
     select id, 2, 'default', (($2::timestamptz) at time zone $3)::date, 'scheduled', email, 'Following up', 'Hi again',
            '<p>Hi again</p>', 'UTC', 'e2e', $2, $2::timestamptz + interval '8 hours'
       from leads where id = $1`,
    [replierSend.leadId, followUpAt, senderZone],
  );
  const replyText = `Sounds interesting — call me on Tuesday. (${tag})`;
  const tAppend = Date.now();
  await dovecot.append(
    MAILBOX_USER,
    [
      `From: Ines Buyer <${replier}>`,
      `To: Corofy E2E <${FROM_EMAIL}>`,
      `Subject: Re: ${replierMail.subject}`,
      `Message-ID: <reply-${tag}@company0.example>`,
      `In-Reply-To: ${replierMail.messageId}`,
      `References: ${replierMail.messageId}`,
      `Date: ${new Date().toUTCString()}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      replyText,
      '',
      `On ${new Date().toDateString()} Corofy E2E <${FROM_EMAIL}> wrote:`,
      '> Hello',
      '',
    ].join('\r\n'),
  );
  const stopped = await waitFor('the lead to stop', async () => {
    const l = await api('GET', `/v1/leads/${replierSend.leadId}`);
    return l.status === 'replied' ? l : undefined;
  }, 60_000).catch(() => undefined);
  const followUp = ((await api('GET', `/v1/sends?leadId=${replierSend.leadId}`)).sends as any[]).find((x) => x.step === 2);
  e2e.report.replyToStopSeconds = (Date.now() - tAppend) / 1000;
  e2e.check('a reply APPENDed to the mailbox stops the lead and cancels its scheduled follow-up',
    stopped?.status === 'replied' && followUp?.status === 'cancelled', { lead: stopped?.status, followUp: followUp?.status });
  const notice = await waitFor('the Corofy Trigger workflow to email the sender', async () =>
    smtp.received.find((m) => m.to.includes(NOTIFY_TO) && m.text.includes(replyText)), 90_000).catch(() => undefined);
  e2e.check('the reply fired the Corofy Trigger workflow: its notice with the reply text arrived', notice !== undefined,
    smtp.received.filter((m) => m.to.includes(NOTIFY_TO)).map((m) => m.text.slice(0, 200)));
  // the notice leaves before n8n records the run as finished
  const execution = await waitFor('n8n to finish recording the trigger workflow’s run', async () => {
    const last = await n8n.lastExecution();
    return last.status === 'running' || last.status === 'new' ? undefined : last;
  }, 30_000).catch(() => n8n.lastExecution());
  e2e.check('n8n recorded the trigger workflow’s run as a success',
    execution.workflowId === 'CorofyReplyNotify1' && execution.status === 'success', { workflowId: execution.workflowId, status: execution.status });

  // 8. a hard bounce in the mailbox suppresses the address
  const bounced = insideLeads[1]!.email.toLowerCase();
  const bouncedMail = byRecipient.get(bounced)![0]!;
  await dovecot.append(
    MAILBOX_USER,
    [
      'From: Mail Delivery System <MAILER-DAEMON@mx.company1.example>',
      `To: ${FROM_EMAIL}`,
      'Subject: Undelivered Mail Returned to Sender',
      `Message-ID: <bounce-${tag}@mx.company1.example>`,
      `Date: ${new Date().toUTCString()}`,
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"',
      '',
      '--dsn',
      'Content-Type: text/plain',
      '',
      `<${bounced}>: host mx.company1.example said: 550 5.1.1 User unknown`,
      '',
      '--dsn',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.company1.example',
      '',
      `Final-Recipient: rfc822; ${bounced}`,
      'Action: failed',
      'Status: 5.1.1',
      'Diagnostic-Code: smtp; 550 5.1.1 User unknown',
      '',
      '--dsn',
      'Content-Type: text/rfc822-headers',
      '',
      `Message-ID: ${bouncedMail.messageId}`,
      `To: ${bounced}`,
      `From: ${FROM_EMAIL}`,
      '',
      '--dsn--',
      '',
    ].join('\r\n'),
  );
  const suppressed = await waitFor('the bounced address to be suppressed', async () => {
    const list = (await api('GET', '/v1/suppressions')).suppressions as any[];
    return list.find((s) => s.value === bounced);
  }, 60_000).catch(() => undefined);
  const bouncedLead = await api('GET', `/v1/leads/${sent.find((s) => s.to === bounced).leadId}`);
  e2e.check('a hard bounce in the mailbox suppresses the address and stops the lead',
    suppressed !== undefined && bouncedLead.status === 'bounced', { suppressed, lead: bouncedLead.status });

  // 9. a forged webhook call: signed with another secret, the trigger refuses it
  const executionsBefore = (await n8n.lastExecution()).id;
  const body = JSON.stringify({ type: 'reply', timestamp: new Date().toISOString(), data: { leadId: '1', email: 'forged@evil.example', text: 'forged' } });
  const id = `msg_${randomBytes(8).toString('hex')}`;
  const timestamp = Math.floor(Date.now() / 1000).toString();
  const forgedKey = randomBytes(24);
  const signature = createHmac('sha256', forgedKey).update(`${id}.${timestamp}.${body}`).digest('base64');
  const forged = await fetch(hook.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` },
    body,
  });
  const unsigned = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await new Promise((r) => setTimeout(r, 1000));
  e2e.check('a webhook call with a bad signature (or none) is refused by the trigger, nothing runs',
    forged.status === 401 && unsigned.status === 401 && (await n8n.lastExecution()).id === executionsBefore,
    { forged: forged.status, unsigned: unsigned.status });

  // 10. the deliveries as the service saw them, and the mailbox's health after it all
  const deliveries = (await api('GET', `/v1/webhooks/${hook.id}/deliveries`)).deliveries as any[];
  e2e.check('the service delivered the reply once to the trigger, nothing dead',
    deliveries.filter((d) => d.eventType === 'reply' && d.status === 'delivered').length === 1 && deliveries.every((d) => d.status !== 'dead'),
    deliveries.map((d) => ({ type: d.eventType, status: d.status, attempts: d.attempts, lastError: d.lastError })));
  const after = (await api('GET', '/v1/senders/default')).mailbox;
  e2e.report.mailboxHealthAfter = after;
  e2e.check('health: the watcher read the messages (last message seen), no SMTP error',
    after?.inbound?.lastMessageAt !== null && after?.outbound?.lastError === null, after);
  await n8n.stop();
});
