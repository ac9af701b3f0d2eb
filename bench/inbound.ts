// Inbound benchmark: the classifier's rate on one core (the 103-message table),
// the time from the IMAP APPEND of a reply to the lead's pending sends being
// cancelled (the watcher on IDLE, a real Dovecot, Postgres), and the service's
// memory with 100 watched mailboxes. Prints one JSON object.
//   node_modules/.bin/node --import tsx bench/inbound.ts
// TEST_DATABASE_URL (default the local server) must allow CREATE DATABASE;
// BENCH_REPLIES=30 and BENCH_MAILBOXES=100 change the run.
import { classifyMessage } from '../service/src/inbound/classify';
import { startDovecot, PASSWORD } from '../service/test/inbound/dovecot';
import { sendStatuses, sentLead } from '../service/test/inbound/inbound-fixture';
import { INBOUND_CASES } from '../service/test/inbound/inbound-messages';
import { rawSql, stopService } from '../service/test/support/sends-fixture';
import { startTestService } from '../service/test/support/test-service';

process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const REPLIES = Number(process.env.BENCH_REPLIES ?? 30);
const MAILBOXES = Number(process.env.BENCH_MAILBOXES ?? 100);
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1]!;

async function classifierRate(): Promise<number> {
  const raws = INBOUND_CASES.map((c) => Buffer.from(c.raw));
  for (const r of raws) await classifyMessage(r); // warm up
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < 3000) {
    for (const r of raws) await classifyMessage(r);
    n += raws.length;
  }
  return Math.round(n / ((performance.now() - started) / 1000));
}

async function until(fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main(): Promise<void> {
  const classifierMessagesPerSecond = await classifierRate();

  const users = ['ops@outreach.test', ...Array.from({ length: MAILBOXES }, (_, i) => `box${i}@outreach.test`)];
  const dovecot = await startDovecot(users);
  const svc = await startTestService({ COROFY_IMAP_SCAN_INTERVAL_MS: '500', COROFY_IMAP_POLL_SECONDS: '300', LOG_LEVEL: 'silent' });
  const connectedMailboxes = async () =>
    (await rawSql(svc)('select count(*)::int as n from mailbox_watch where connected'))[0].n as number;
  try {
    await svc.api('PUT', '/v1/senders/default', {
      imap: { host: dovecot.host, port: dovecot.port, tls: 'none', user: 'ops@outreach.test', password: PASSWORD },
    });
    await until(async () => (await svc.api('GET', '/v1/senders/default')).body.mailbox.inbound?.connected === true);

    // reply → cancelled, with IDLE (the poll interval is 300 s, so only IDLE can be this fast)
    const seconds: number[] = [];
    for (let i = 0; i < REPLIES; i++) {
      const ourId = `<bench-${i}-${Date.now()}@mail.outreach.test>`;
      const email = `r${i}-${Date.now()}@reply-bench.test`;
      const lead = await sentLead(svc, email, ourId);
      const raw = `From: ${email}\r\nTo: ops@outreach.test\r\nSubject: Re: hi\r\nMessage-ID: <reply-${i}-${Date.now()}@reply-bench.test>\r\nIn-Reply-To: ${ourId}\r\n\r\nInterested.\r\n`;
      const t0 = performance.now();
      await dovecot.append('ops@outreach.test', raw);
      await until(async () => (await sendStatuses(svc, lead))[2] === 'cancelled');
      seconds.push((performance.now() - t0) / 1000);
    }

    // 100 more mailboxes watched by this one service
    global.gc?.();
    await new Promise((r) => setTimeout(r, 1000));
    const before = process.memoryUsage().rss;
    for (let i = 0; i < MAILBOXES; i++) {
      const put = await svc.api('PUT', `/v1/senders/mbx${i}`, {
        imap: { host: dovecot.host, port: dovecot.port, tls: 'none', user: `box${i}@outreach.test`, password: PASSWORD },
      });
      if (put.status !== 200) throw new Error(`PUT sender: ${JSON.stringify(put.body)}`);
    }
    await until(async () => (await connectedMailboxes()) >= MAILBOXES + 1, 180_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2000));
    global.gc?.();
    const after = process.memoryUsage().rss;
    const connected = await connectedMailboxes();

    process.stdout.write(
      `${JSON.stringify({
        classifierMessagesPerSecond,
        replyToCancelP95Seconds: Math.round(p95(seconds) * 1000) / 1000,
        replyToCancelP50Seconds: Math.round([...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)]! * 1000) / 1000,
        replies: seconds.length,
        watch100MailboxesRssMb: mb(after - before),
        mailboxesConnected: connected,
        rssIdleMb: mb(before),
        database: 'postgres',
      })}\n`,
    );
  } finally {
    await stopService(svc);
    await dovecot.cleanup();
  }
}

void main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
