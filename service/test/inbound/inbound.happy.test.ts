import { rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { postRaw, sendStatuses, sentLead } from './inbound-fixture';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
}, 180_000); // the embedded database starts slowly on a loaded machine
afterAll(() => stopService(svc));

const msg = (headers: Record<string, string>, body: string) =>
  `${Object.entries({ 'Message-ID': `<${Math.random().toString(36).slice(2)}@in.test>`, To: 'ops@outreach.test', ...headers })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n${body}`;

async function suppressed(value: string): Promise<boolean> {
  return (await rawSql(svc)('select 1 from suppressions where value = $1', [value])).length === 1;
}

test('a reply stops the lead: its scheduled follow-up is cancelled, the address is not suppressed', async () => {
  const lead = await sentLead(svc, 'ann@reply-co.test', '<r1@mail.outreach.test>');
  const r = await postRaw(svc, msg({ From: 'Ann <ann@reply-co.test>', Subject: 'Re: Hello', 'In-Reply-To': '<r1@mail.outreach.test>' }, 'Yes, call me.\r\n\r\nOn Tue Sam wrote:\r\n> unsubscribe here'));
  expect(r.body).toMatchObject({ kind: 'reply', leadId: lead, matchedBy: 'message_id', event: { status: 'replied', cancelledSends: 1, suppressed: false } });
  expect(await sendStatuses(svc, lead)).toEqual({ 1: 'sent', 2: 'cancelled' });
  expect((await svc.api('GET', `/v1/leads/${lead}`)).body.status).toBe('replied');
  expect(await suppressed('ann@reply-co.test')).toBe(false);
  const [ev] = await rawSql(svc)('select kind, text from events where lead_id = $1', [lead]);
  expect(ev).toEqual({ kind: 'reply', text: 'Yes, call me.' });
});

test('a hard bounce suppresses the address and stops the lead; a soft bounce only records it', async () => {
  const hard = await sentLead(svc, 'gone@bounce-co.test', '<b1@mail.outreach.test>');
  const soft = await sentLead(svc, 'full@bounce-co.test', '<b2@mail.outreach.test>');
  const dsn = (rcpt: string, status: string, id: string) =>
    msg(
      { From: 'MAILER-DAEMON@mx.bounce-co.test', Subject: 'Undelivered Mail Returned to Sender', 'Content-Type': 'multipart/report; report-type=delivery-status; boundary="b"' },
      `--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; ${rcpt}\r\nAction: failed\r\nStatus: ${status}\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: ${id}\r\nTo: ${rcpt}\r\n\r\n--b--\r\n`,
    );
  const h = await postRaw(svc, dsn('gone@bounce-co.test', '5.1.1', '<b1@mail.outreach.test>'));
  expect(h.body).toMatchObject({ kind: 'bounce', leadId: hard, bounce: { recipients: [{ email: 'gone@bounce-co.test', status: '5.1.1', hard: true }] }, event: { status: 'bounced', suppressed: true } });
  expect(await suppressed('gone@bounce-co.test')).toBe(true);
  expect(await sendStatuses(svc, hard)).toEqual({ 1: 'sent', 2: 'cancelled' });

  const s = await postRaw(svc, dsn('full@bounce-co.test', '4.2.2', '<b2@mail.outreach.test>'));
  expect(s.body).toMatchObject({ kind: 'bounce', leadId: soft, sendId: expect.any(String), bounce: { recipients: [{ email: 'full@bounce-co.test', hard: false }] }, event: { suppressed: false } });
  expect(await suppressed('full@bounce-co.test')).toBe(false);
  expect(await sendStatuses(svc, soft)).toEqual({ 1: 'sent', 2: 'scheduled' });
  const [ev] = await rawSql(svc)("select kind, sender_id from events where lead_id = $1", [soft]);
  expect(ev).toEqual({ kind: 'soft_bounce', sender_id: 'default' });
});

test('an auto-reply is recorded without stopping the lead, unless the sender set stop_on_auto_reply', async () => {
  const lead = await sentLead(svc, 'away@ooo-co.test', '<o1@mail.outreach.test>');
  const ooo = (n: number) => msg({ From: 'away@ooo-co.test', Subject: `Abwesenheitsnotiz ${n}`, 'In-Reply-To': '<o1@mail.outreach.test>' }, 'Ich bin bis Montag nicht im Büro.');
  const a = await postRaw(svc, ooo(1));
  expect(a.body).toMatchObject({ kind: 'auto_reply', leadId: lead, event: { cancelledSends: 0 } });
  expect(await sendStatuses(svc, lead)).toEqual({ 1: 'sent', 2: 'scheduled' });

  await rawSql(svc)("update senders set stop_on_auto_reply = true where id = 'default'");
  try {
    const b = await postRaw(svc, ooo(2));
    expect(b.body).toMatchObject({ kind: 'auto_reply', leadId: lead, event: { status: 'replied', cancelledSends: 1 } });
    expect(await sendStatuses(svc, lead)).toEqual({ 1: 'sent', 2: 'cancelled' });
  } finally {
    await rawSql(svc)("update senders set stop_on_auto_reply = false where id = 'default'");
  }
});

test('a complaint suppresses the address; an unsubscribe request from a colleague stops the lead', async () => {
  const lead = await sentLead(svc, 'cara@arf-co.test', '<c1@mail.outreach.test>', 'arf-co.test');
  const arf = msg(
    { From: 'fbl@isp.test', Subject: 'FBL', 'Content-Type': 'multipart/report; report-type=feedback-report; boundary="f"' },
    '--f\r\nContent-Type: text/plain\r\n\r\nreport\r\n--f\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nOriginal-Rcpt-To: cara@arf-co.test\r\n\r\n--f--\r\n',
  );
  const c = await postRaw(svc, arf);
  expect(c.body).toMatchObject({ kind: 'complaint', leadId: lead, event: { status: 'complained', suppressed: true } });
  expect(await suppressed('cara@arf-co.test')).toBe(true);

  const lead2 = await sentLead(svc, 'dan@stop-co.test', '<d1@mail.outreach.test>', 'stop-co.test');
  const u = await postRaw(svc, msg({ From: 'office@stop-co.test', Subject: 'Ihre E-Mails' }, 'Kein Interesse. Bitte keine E-Mails mehr.'));
  expect(u.body).toMatchObject({ kind: 'unsubscribe', leadId: lead2, matchedBy: 'company', event: { status: 'unsubscribed' } });
  expect(await suppressed('office@stop-co.test')).toBe(true);
  expect(await sendStatuses(svc, lead2)).toEqual({ 1: 'sent', 2: 'cancelled' });
});

test('the same message arriving twice at once is recorded once', async () => {
  const lead = await sentLead(svc, 'eve@race-co.test', '<e1@mail.outreach.test>');
  const raw = msg({ From: 'eve@race-co.test', Subject: 'Re: hi', 'In-Reply-To': '<e1@mail.outreach.test>' }, 'Interested.');
  const answers = await Promise.all(Array.from({ length: 6 }, () => postRaw(svc, raw)));
  expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
  expect(answers.filter((a) => !a.body.duplicate)).toHaveLength(1);
  expect(await rawSql(svc)('select count(*)::int as n from events where lead_id = $1', [lead])).toEqual([{ n: 1 }]);
});
