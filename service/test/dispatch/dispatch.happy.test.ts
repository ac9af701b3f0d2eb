import { rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { DISPATCH_ENV, dueSends, sendRows, useCorofyDelivery, waitFor } from './dispatch-kit';
import { startSmtpSink, type SmtpSink } from './smtp-fixture';

/** A header of the message as written on the wire, unfolded. */
function header(raw: string, name: string): string | undefined {
  const head = raw.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
  return head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();
}

let svc: TestService;
let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink({ users: { 'ana@acme.test': 'mailbox-pw' } });
  svc = await startTestService(DISPATCH_ENV);
  await useCorofyDelivery(svc, sink.port);
});
afterAll(async () => {
  await stopService(svc);
  await sink?.close();
});

test('due sends leave through the mailbox once each, with the headers providers require; nothing early, nothing after the window', async () => {
  const now = Date.now();
  const due = await dueSends(svc, ['one@client.test', 'two@client.test', 'three@client.test'], new Date(now - 1000), new Date(now + 3600_000));
  const later = await dueSends(svc, ['later@client.test'], new Date(now + 3600_000), new Date(now + 7200_000));
  const closed = await dueSends(svc, ['closed@client.test'], new Date(now - 7200_000), new Date(now - 3600_000));

  const rows = await waitFor('three sent', async () => {
    const r = await sendRows(svc);
    return r.filter((s) => s.status === 'sent').length === 3 && r;
  });
  await new Promise((r) => setTimeout(r, 500)); // a few more dispatcher ticks: nothing else may leave

  expect(sink.received.map((m) => m.to[0]).sort()).toEqual(['one@client.test', 'three@client.test', 'two@client.test']);
  const tokens: string[] = [];
  for (const send of due) {
    const row = rows.find((r) => r.id === send.sendId)!;
    const got = sink.received.filter((m) => m.to[0] === send.to);
    expect(got).toHaveLength(1);
    const m = got[0]!;
    expect(m.from).toBe('ana@acme.test');
    expect(m.user).toBe('ana@acme.test');
    expect(row).toMatchObject({ status: 'sent', lead_status: 'sent', attempts: 1 });
    expect(row.smtp_response).toMatch(/^250 2\.0\.0 OK queued as Q\d+/);
    // our Message-ID, on the sender's domain, is the one stored on the send
    expect(row.message_id).toMatch(new RegExp(`^${send.sendId}\\.[0-9a-f]{16}@acme\\.test$`));
    expect(m.parsed.messageId).toBe(`<${row.message_id}>`);
    expect(m.parsed.from?.text).toBe('"Ana Example" <ana@acme.test>');
    expect(m.parsed.to && 'text' in m.parsed.to ? m.parsed.to.text : '').toBe(send.to);
    expect(m.parsed.subject).toBe(send.subject);
    expect(m.parsed.date).toBeInstanceOf(Date);
    expect(m.parsed.text?.trim()).toBe(send.text);
    expect(m.parsed.html).toContain(send.html);
    expect(m.raw).toMatch(/Content-Type: multipart\/alternative/i);
    // RFC 8058 one-click pair; https link to this lead's token plus the mailto
    const unfolded = header(m.raw, 'List-Unsubscribe');
    expect(unfolded).toMatch(
      new RegExp(`^<https://corofy\\.example\\.test/unsubscribe/${send.leadId}\\.[A-Za-z0-9_-]{43}>, <mailto:unsubscribe@acme\\.test\\?subject=unsubscribe>$`),
    );
    tokens.push(/unsubscribe\/([^>]+)>/.exec(unfolded!)![1]!);
    expect(header(m.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(m.parsed.inReplyTo).toBeUndefined();
    // no tracking: the bodies are as composed, no pixel, no rewritten links
    expect(m.raw).not.toMatch(/<img/i);
  }
  // the one-click target works as a mailbox provider calls it (RFC 8058)
  const click = await fetch(`${svc.url}/unsubscribe/${tokens[0]}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  expect(click.status).toBe(200);
  expect((await svc.api('GET', '/v1/suppressions')).body.suppressions.map((x: { value: string }) => x.value)).toContain(due[0].to);

  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  expect(byId[later[0].sendId]).toMatchObject({ status: 'scheduled', attempts: 0 });
  expect(byId[closed[0].sendId]).toMatchObject({ status: 'scheduled', attempts: 0 });
  expect(sink.received.some((m) => m.to[0] === 'later@client.test' || m.to[0] === 'closed@client.test')).toBe(false);
});

test('a follow-up is threaded: In-Reply-To and References name the earlier step', async () => {
  const now = Date.now();
  const [first] = await dueSends(svc, ['thread@client.test'], new Date(now - 1000), new Date(now + 3600_000));
  const firstRow = await waitFor('step 1 sent', async () => (await sendRows(svc)).find((r) => r.id === first.sendId && r.status === 'sent'));
  // step 2 of the same lead, due now (sequences are another issue: inserted as their gate will)
  await rawSql(svc)(
    `insert into sends (lead_id, step, sender_id, day, status, to_email, subject, text, html, timezone, timezone_source, send_at, window_end)
     select lead_id, 2, sender_id, day, 'scheduled', to_email, 'Re: ' || subject, 'Following up', '<p>Following up</p>', timezone, timezone_source,
            now() - interval '1 second', now() + interval '1 hour' from sends where id = $1`,
    [first.sendId],
  );
  await rawSql(svc)(`update sender_days set scheduled = scheduled + 1 where sender_id = 'default' and day = (select day from sends where id = $1)`, [first.sendId]);
  await rawSql(svc)(`update leads set status = 'scheduled' where id = $1`, [first.leadId]);
  await waitFor('step 2 received', async () => sink.received.filter((m) => m.to[0] === 'thread@client.test').length === 2);
  const second = sink.received.filter((m) => m.to[0] === 'thread@client.test')[1]!;
  expect(second.parsed.inReplyTo).toBe(`<${firstRow.message_id}>`);
  expect(second.parsed.references).toBe(`<${firstRow.message_id}>`);
  expect(second.parsed.messageId).not.toBe(`<${firstRow.message_id}>`);
});

test('POST /v1/senders/:id/verify logs in and offers the envelope without sending anything', async () => {
  const before = sink.received.length;
  const r = await svc.api('POST', '/v1/senders/default/verify');
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ smtp: { ok: true, host: '127.0.0.1', port: sink.port, tls: 'none', auth: 'password' }, imap: null });
  expect(sink.received.length).toBe(before);
});
