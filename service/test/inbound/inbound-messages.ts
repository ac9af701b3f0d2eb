// The inbound table: messages we wrote ourselves in the shapes real servers and
// people send (see ../shared/notes/mailbox-testing.md). Every message is about
// one world: our sender ops@outreach.test wrote to Jane Doe at acme-widgets.com
// (Message-ID OUR_ID) and to Pat, who uses gmail.com.

export const OUR_ID = '<s1.jane.7f3a@mail.outreach.test>';
export const JANE = 'jane.doe@acme-widgets.com';
export const PAT = 'pat.lee@gmail.com';
export const OURS = 'ops@outreach.test';

export interface InboundCase {
  name: string;
  raw: string;
  kind: 'reply' | 'auto_reply' | 'bounce' | 'complaint' | 'unsubscribe' | 'other';
  /** Bounced recipients: [email, hard]. */
  recipients?: [string, boolean][];
  /** Which lead it is matched to: jane (the lead) or null; `company` = another address at Jane's company. */
  lead?: 'jane' | 'pat' | null;
  company?: boolean;
}

let n = 0;
function mail(headers: Record<string, string>, body: string): string {
  n += 1;
  const h: Record<string, string> = {
    Date: 'Tue, 01 Dec 2026 10:15:00 +0100',
    'Message-ID': `<case-${n}.${Math.random().toString(36).slice(2, 8)}@inbound.test>`,
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=utf-8',
    To: OURS,
    ...headers,
  };
  for (const [k, v] of Object.entries(h)) if (v === '') delete h[k];
  return `${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}`;
}

const ORIGINAL_HEADERS = (to = JANE, id = OUR_ID) => `Return-Path: <${OURS}>
Received: from mail.outreach.test (mail.outreach.test [203.0.113.5])
From: Sam Ops <${OURS}>
To: ${to}
Subject: Quick idea for Acme Widgets
Message-ID: ${id}
Date: Tue, 01 Dec 2026 09:00:00 +0000`;

const QUOTE_EN = `On Tue, Dec 1, 2026 at 9:00 AM Sam Ops <${OURS}> wrote:
> Hi Jane,
> we help widget makers cut packaging costs by 20%. Worth a chat?
> Sam
> --
> Not interested? Unsubscribe: https://outreach.test/unsubscribe/abc`;

function dsn(opts: {
  from?: string;
  subject?: string;
  human: string;
  reportingMta?: string;
  groups: string[];
  original?: string;
  originalType?: 'message/rfc822' | 'text/rfc822-headers';
}): string {
  return mail(
    {
      From: opts.from ?? 'Mail Delivery System <MAILER-DAEMON@mx.acme-widgets.com>',
      Subject: opts.subject ?? 'Undelivered Mail Returned to Sender',
      'Content-Type': 'multipart/report; report-type=delivery-status; boundary="=_dsn_1"',
      'Auto-Submitted': 'auto-replied',
    },
    `This is a MIME-encapsulated message.

--=_dsn_1
Content-Type: text/plain; charset=us-ascii

${opts.human}

--=_dsn_1
Content-Type: message/delivery-status

Reporting-MTA: dns; ${opts.reportingMta ?? 'mx.acme-widgets.com'}
Arrival-Date: Tue,  1 Dec 2026 09:00:01 +0000

${opts.groups.join('\n\n')}

--=_dsn_1
Content-Type: ${opts.originalType ?? 'text/rfc822-headers'}

${opts.original ?? ORIGINAL_HEADERS()}

--=_dsn_1--
`,
  );
}

const group = (rcpt: string, action: string, status: string, diag: string) =>
  `Final-Recipient: rfc822; ${rcpt}\nOriginal-Recipient: rfc822;${rcpt}\nAction: ${action}\nStatus: ${status}\nDiagnostic-Code: smtp; ${diag}`;

function textBounce(from: string, subject: string, body: string, extra: Record<string, string> = {}): string {
  return mail({ From: from, Subject: subject, ...extra }, body);
}

function reply(headers: Record<string, string>, body: string): string {
  return mail({ From: `Jane Doe <${JANE}>`, Subject: 'Re: Quick idea for Acme Widgets', 'In-Reply-To': OUR_ID, References: OUR_ID, ...headers }, body);
}

export const INBOUND_CASES: InboundCase[] = [
  // ---- RFC 3464 DSNs (Postfix, Sendmail, Gmail, Office 365, SES, Exim with DSN) ----
  { name: 'Postfix DSN: user unknown', kind: 'bounce', lead: 'jane', recipients: [[JANE, true]],
    raw: dsn({ human: 'I\'m sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It\'s attached below.\n\n<jane.doe@acme-widgets.com>: host mx.acme-widgets.com[198.51.100.7] said: 550 5.1.1\n    <jane.doe@acme-widgets.com>: Recipient address rejected: User unknown in\n    virtual mailbox table (in reply to RCPT TO command)',
      groups: [group(JANE, 'failed', '5.1.1', '550 5.1.1 <jane.doe@acme-widgets.com>: Recipient address rejected: User unknown in virtual mailbox table')] }) },
  { name: 'Postfix DSN: mailbox full', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: dsn({ human: 'Your message could not be delivered: mailbox full.', groups: [group(JANE, 'failed', '5.2.2', '552 5.2.2 <jane.doe@acme-widgets.com>: Mailbox full')] }) },
  { name: 'Postfix DSN: domain has no mail server', kind: 'bounce', recipients: [['old@gone-company.test', true]],
    raw: dsn({ human: '<old@gone-company.test>: Host or domain name not found. Name service error for\n    name=gone-company.test type=MX: Host not found',
      groups: [group('old@gone-company.test', 'failed', '5.4.4', 'X-Postfix; Host or domain name not found. Name service error for name=gone-company.test type=MX: Host not found')],
      original: ORIGINAL_HEADERS('old@gone-company.test', '<s9.old@mail.outreach.test>') }) },
  { name: 'Postfix DSN: connection timed out (expired in queue)', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: dsn({ human: 'Message expired in queue.', groups: [group(JANE, 'failed', '4.4.1', 'X-Postfix; connect to mx.acme-widgets.com[198.51.100.7]:25: Connection timed out')] }) },
  { name: 'Postfix DSN: blocked by policy (5.7.1)', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: dsn({ human: 'Rejected.', groups: [group(JANE, 'failed', '5.7.1', '554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org')] }) },
  { name: 'Postfix DSN: delivered (success notification) is no bounce', kind: 'other',
    raw: dsn({ subject: 'Successful Mail Delivery Report', human: 'This is the mail system: your message was successfully delivered.', groups: [group(JANE, 'delivered', '2.0.0', '250 2.0.0 Ok: queued as 4Bx')] }) },
  { name: 'Postfix DSN: delayed (warning) is no bounce', kind: 'other',
    raw: dsn({ subject: 'Delayed Mail (still being retried)', human: 'This is a warning only; the mail system will keep trying.', groups: [group(JANE, 'delayed', '4.4.1', 'X-Postfix; connect to mx: Connection refused')] }) },
  { name: 'Postfix DSN: relayed is no bounce', kind: 'other',
    raw: dsn({ subject: 'Delivery Status Notification (Relay)', human: 'Relayed to a non-DSN aware mailer.', groups: [group(JANE, 'relayed', '2.0.0', '250 relayed')] }) },
  { name: 'DSN with two recipients: one hard, one soft', kind: 'bounce', recipients: [[JANE, true], ['bob@acme-widgets.com', false]], lead: 'jane',
    raw: dsn({ human: 'Delivery failed for two recipients.', groups: [group(JANE, 'failed', '5.1.1', '550 5.1.1 user unknown'), group('bob@acme-widgets.com', 'failed', '4.2.2', '452 4.2.2 over quota')] }) },
  { name: 'DSN with one failed and one delivered recipient', kind: 'bounce', recipients: [[JANE, true]], lead: 'jane',
    raw: dsn({ human: 'Partial failure.', groups: [group('bob@acme-widgets.com', 'delivered', '2.0.0', '250 ok'), group(JANE, 'failed', '5.1.1', '550 5.1.1 user unknown')] }) },
  { name: 'Sendmail DSN: 5.0.0 with "User unknown" wording', kind: 'bounce', lead: 'jane', recipients: [[JANE, true]],
    raw: dsn({ from: 'Mail Delivery Subsystem <MAILER-DAEMON@mail.acme-widgets.com>', subject: 'Returned mail: see transcript for details',
      human: 'The original message was received at Tue, 1 Dec 2026 09:00:01\n\n   ----- The following addresses had permanent fatal errors -----\n<jane.doe@acme-widgets.com>\n    (reason: 550 User unknown)\n\n   ----- Transcript of session follows -----\n... while talking to mx.acme-widgets.com.:\n>>> RCPT To:<jane.doe@acme-widgets.com>\n<<< 550 User unknown\n550 5.1.1 <jane.doe@acme-widgets.com>... User unknown',
      groups: [group(JANE, 'failed', '5.0.0', '550 User unknown')] }) },
  { name: 'Sendmail DSN: deferred too long (4.4.7)', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: dsn({ from: 'Mail Delivery Subsystem <MAILER-DAEMON@mail.acme-widgets.com>', subject: 'Returned mail: see transcript for details',
      human: '   ----- The following addresses had permanent fatal errors -----\n<jane.doe@acme-widgets.com>\n    (reason: Deferred: Connection timed out with mx.acme-widgets.com.)',
      groups: [group(JANE, 'failed', '4.4.7', 'Deferred: Connection timed out')] }) },
  { name: 'Gmail DSN: address not found', kind: 'bounce', recipients: [[PAT, true]], lead: 'pat',
    raw: dsn({ from: 'Mail Delivery Subsystem <mailer-daemon@googlemail.com>', subject: 'Delivery Status Notification (Failure)', reportingMta: 'dns; googlemail.com',
      human: "** Address not found **\n\nYour message wasn't delivered to pat.lee@gmail.com because the address couldn't be found, or is unable to receive mail.\n\nLearn more here: https://support.google.com/mail/?p=NoSuchUser\n\nThe response was:\n\n550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.",
      groups: [group(PAT, 'failed', '5.1.1', "550-5.1.1 The email account that you tried to reach does not exist.")],
      original: ORIGINAL_HEADERS(PAT, '<s1.pat@mail.outreach.test>') }) },
  { name: 'Gmail DSN: recipient inbox out of storage', kind: 'bounce', recipients: [[PAT, false]], lead: 'pat',
    raw: dsn({ from: 'Mail Delivery Subsystem <mailer-daemon@googlemail.com>', subject: 'Delivery Status Notification (Failure)',
      human: "** Message not delivered **\n\nThe recipient's inbox is out of storage space. Please try again later.",
      groups: [group(PAT, 'failed', '4.2.2', "452-4.2.2 The recipient's inbox is out of storage space.")],
      original: ORIGINAL_HEADERS(PAT, '<s1.pat@mail.outreach.test>') }) },
  { name: 'Gmail DSN: message blocked as spam', kind: 'bounce', recipients: [[PAT, false]], lead: 'pat',
    raw: dsn({ from: 'Mail Delivery Subsystem <mailer-daemon@googlemail.com>', subject: 'Delivery Status Notification (Failure)',
      human: '** Message blocked **\n\nYour message to pat.lee@gmail.com has been blocked. See technical details below for more information.',
      groups: [group(PAT, 'failed', '5.7.1', "550-5.7.1 [203.0.113.5] Our system has detected that this message is likely unsolicited mail.")],
      original: ORIGINAL_HEADERS(PAT, '<s1.pat@mail.outreach.test>') }) },
  { name: 'Office 365 DSN: RecipientNotFound (5.1.10)', kind: 'bounce', lead: 'jane', recipients: [[JANE, true]],
    raw: dsn({ from: 'Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@acme-widgets.com>', subject: 'Undeliverable: Quick idea for Acme Widgets', reportingMta: 'dns;AM0PR01MB1234.eurprd01.prod.outlook.com',
      human: "Your message to jane.doe@acme-widgets.com couldn't be delivered.\njane.doe wasn't found at acme-widgets.com.\n\nRemote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'",
      groups: [group(JANE, 'failed', '5.1.10', '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup')], originalType: 'message/rfc822',
      original: `${ORIGINAL_HEADERS()}\n\nHi Jane, we help widget makers.` }) },
  { name: 'Office 365 DSN: access denied, IP blocked (5.7.708)', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: dsn({ from: 'Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@acme-widgets.com>', subject: 'Undeliverable: Quick idea for Acme Widgets',
      human: "Delivery has failed to these recipients or groups:\n\njane.doe@acme-widgets.com\nYour message wasn't delivered because the recipient's email provider rejected it.",
      groups: [group(JANE, 'failed', '5.7.708', '550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.')] }) },
  { name: 'Office 365 DSN: mailbox full (5.2.2)', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: dsn({ from: 'postmaster@acme-widgets.onmicrosoft.com', subject: 'Undeliverable: Quick idea for Acme Widgets',
      human: "Your message couldn't be delivered because the recipient's mailbox is full.",
      groups: [group(JANE, 'failed', '5.2.2', '554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException')] }) },
  { name: 'Amazon SES DSN: user unknown', kind: 'bounce', lead: 'jane', recipients: [[JANE, true]],
    raw: dsn({ from: 'MAILER-DAEMON@amazonses.com', subject: 'Delivery Status Notification (Failure)', reportingMta: 'dns; a8-31.smtp-out.amazonses.com',
      human: 'An error occurred while trying to deliver the mail to the following recipients:\njane.doe@acme-widgets.com',
      groups: [group(JANE, 'failed', '5.1.1', 'smtp; 550 5.1.1 user unknown')] }) },
  { name: 'Amazon SES DSN: rejected for policy', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: dsn({ from: 'MAILER-DAEMON@amazonses.com', subject: 'Delivery Status Notification (Failure)',
      human: 'An error occurred while trying to deliver the mail to the following recipients:\njane.doe@acme-widgets.com',
      groups: [group(JANE, 'failed', '5.3.0', '554 5.3.0 Message rejected for policy reasons (DMARC)')] }) },
  { name: 'Yahoo DSN: no such account (5.1.1)', kind: 'bounce', recipients: [['kim.wu@yahoo.com', true]],
    raw: dsn({ from: 'MAILER-DAEMON@yahoo.com', subject: 'Failure Notice', reportingMta: 'dns; mta1.mail.yahoo.com',
      human: 'Sorry, we were unable to deliver your message to the following address.',
      groups: [group('kim.wu@yahoo.com', 'failed', '5.1.1', "554 delivery error: dd This user doesn't have a yahoo.com account (kim.wu@yahoo.com) [0]")],
      original: ORIGINAL_HEADERS('kim.wu@yahoo.com', '<s5.kim@mail.outreach.test>') }) },

  // ---- free-form bounces (no multipart/report) ----
  { name: 'Postfix without DSN: user unknown', kind: 'bounce', lead: 'jane', recipients: [[JANE, true]],
    raw: textBounce('MAILER-DAEMON@mx.acme-widgets.com (Mail Delivery System)', 'Undelivered Mail Returned to Sender',
      `This is the mail system at host mx.acme-widgets.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<jane.doe@acme-widgets.com>: host mx2.acme-widgets.com[198.51.100.8] said: 550
    5.1.1 <jane.doe@acme-widgets.com>: Recipient address rejected: User unknown
    in local recipient table (in reply to RCPT TO command)

--- Original message headers ---
${ORIGINAL_HEADERS()}`) },
  { name: 'Postfix without DSN: over quota (4.2.2)', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: textBounce('MAILER-DAEMON@mx.acme-widgets.com (Mail Delivery System)', 'Undelivered Mail Returned to Sender',
      `This is the mail system at host mx.acme-widgets.com.

<jane.doe@acme-widgets.com>: host mx2.acme-widgets.com[198.51.100.8] said: 452
    4.2.2 <jane.doe@acme-widgets.com>: Mailbox is over quota (in reply to RCPT TO command)

--- Original message headers ---
${ORIGINAL_HEADERS()}`) },
  { name: 'Exim: user unknown (X-Failed-Recipients)', kind: 'bounce', lead: 'jane', recipients: [[JANE, true]],
    raw: textBounce('Mail Delivery System <Mailer-Daemon@smtp.hoster.test>', 'Mail delivery failed: returning message to sender',
      `This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  jane.doe@acme-widgets.com
    host mx.acme-widgets.com [198.51.100.7]
    SMTP error from remote mail server after RCPT TO:<jane.doe@acme-widgets.com>:
    550 5.1.1 <jane.doe@acme-widgets.com>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

${ORIGINAL_HEADERS()}`, { 'X-Failed-Recipients': JANE, 'Auto-Submitted': 'auto-replied' }) },
  { name: 'Exim: unrouteable domain', kind: 'bounce', recipients: [['ceo@nxdomain-widgets.test', true]],
    raw: textBounce('Mail Delivery System <Mailer-Daemon@smtp.hoster.test>', 'Mail delivery failed: returning message to sender',
      `This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  ceo@nxdomain-widgets.test
    Unrouteable address

------ This is a copy of the message, including all the headers. ------
${ORIGINAL_HEADERS('ceo@nxdomain-widgets.test', '<s7.ceo@mail.outreach.test>')}`, { 'X-Failed-Recipients': 'ceo@nxdomain-widgets.test' }) },
  { name: 'Exim: retry timeout exceeded', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: textBounce('Mail Delivery System <Mailer-Daemon@smtp.hoster.test>', 'Mail delivery failed: returning message to sender',
      `This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  jane.doe@acme-widgets.com
    retry timeout exceeded

------ This is a copy of the message, including all the headers. ------
${ORIGINAL_HEADERS()}`, { 'X-Failed-Recipients': JANE }) },
  { name: 'Exim: blocked by spam filter', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: textBounce('Mail Delivery System <Mailer-Daemon@smtp.hoster.test>', 'Mail delivery failed: returning message to sender',
      `This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  jane.doe@acme-widgets.com
    host mx.acme-widgets.com [198.51.100.7]
    SMTP error from remote mail server after end of data:
    550 5.7.1 Message rejected as spam by Content Filtering

------ This is a copy of the message, including all the headers. ------
${ORIGINAL_HEADERS()}`, { 'X-Failed-Recipients': JANE }) },
  { name: 'Exim: mailbox quota exceeded', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: textBounce('Mail Delivery System <Mailer-Daemon@smtp.hoster.test>', 'Mail delivery failed: returning message to sender',
      `This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  jane.doe@acme-widgets.com
    SMTP error from remote mail server after RCPT TO:<jane.doe@acme-widgets.com>:
    552 Mailbox quota exceeded

------ This is a copy of the message, including all the headers. ------
${ORIGINAL_HEADERS()}`, { 'X-Failed-Recipients': JANE }) },
  { name: 'Sendmail text: permanent fatal errors, user unknown', kind: 'bounce', lead: 'jane', recipients: [[JANE, true]],
    raw: textBounce('Mail Delivery Subsystem <MAILER-DAEMON@mail.acme-widgets.com>', 'Returned mail: User unknown',
      `The original message was received at Tue, 1 Dec 2026 09:00:01 GMT
from mail.outreach.test [203.0.113.5]

   ----- The following addresses had permanent fatal errors -----
<jane.doe@acme-widgets.com>

   ----- Transcript of session follows -----
550 5.1.1 <jane.doe@acme-widgets.com>... User unknown

   ----- Original message follows -----
${ORIGINAL_HEADERS()}`) },
  { name: 'Sendmail text: warning, could not send for 4 hours (timeout)', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: textBounce('Mail Delivery Subsystem <MAILER-DAEMON@mail.acme-widgets.com>', 'Warning: could not send message for past 4 hours',
      `    **********************************************
    **      THIS IS A WARNING MESSAGE ONLY      **
    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **
    **********************************************

The original message was received at Tue, 1 Dec 2026 05:00:01 GMT

   ----- Transcript of session follows -----
<jane.doe@acme-widgets.com>... Deferred: Connection timed out with mx.acme-widgets.com.
Warning: message still undelivered after 4 hours

   ----- Original message follows -----
${ORIGINAL_HEADERS()}`) },
  { name: 'qmail: no mailbox here by that name', kind: 'bounce', lead: 'jane', recipients: [[JANE, true]],
    raw: textBounce('MAILER-DAEMON@mx.acme-widgets.com', 'failure notice',
      `Hi. This is the qmail-send program at mx.acme-widgets.com.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<jane.doe@acme-widgets.com>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

${ORIGINAL_HEADERS()}`) },
  { name: 'qmail: remote host says mailbox full', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: textBounce('MAILER-DAEMON@relay.hoster.test', 'failure notice',
      `Hi. This is the qmail-send program at relay.hoster.test.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<jane.doe@acme-widgets.com>:
198.51.100.7 does not like recipient.
Remote host said: 552 5.2.2 Mailbox quota exceeded
Giving up on 198.51.100.7.

--- Below this line is a copy of the message.

${ORIGINAL_HEADERS()}`) },
  { name: 'qmail: no host by that name', kind: 'bounce', recipients: [['info@no-such-host.test', true]],
    raw: textBounce('MAILER-DAEMON@relay.hoster.test', 'failure notice',
      `Hi. This is the qmail-send program at relay.hoster.test.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<info@no-such-host.test>:
Sorry, I couldn't find any host named no-such-host.test. (#5.1.2)

--- Below this line is a copy of the message.
`) },
  { name: 'Exchange on-premises text: address could not be found', kind: 'bounce', lead: 'jane', recipients: [[JANE, true]],
    raw: textBounce('postmaster@acme-widgets.com', 'Undeliverable: Quick idea for Acme Widgets',
      `Delivery has failed to these recipients or groups:

Jane Doe (jane.doe@acme-widgets.com)
The e-mail address you entered couldn't be found. Please check the recipient's e-mail address and try to resend the message.

Diagnostic information for administrators:

Generating server: EXCH01.acme.local

jane.doe@acme-widgets.com
#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##

Original message headers:

${ORIGINAL_HEADERS()}`) },
  { name: 'Exchange on-premises text: mailbox full', kind: 'bounce', lead: 'jane', recipients: [[JANE, false]],
    raw: textBounce('postmaster@acme-widgets.com', 'Undeliverable: Quick idea for Acme Widgets',
      `Delivery has failed to these recipients or groups:

jane.doe@acme-widgets.com
The recipient's mailbox is full and can't accept messages now.

Diagnostic information for administrators:

Generating server: EXCH01.acme.local

jane.doe@acme-widgets.com
#554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException ##

Original message headers:

${ORIGINAL_HEADERS()}`) },
  { name: 'Yahoo text: no such account', kind: 'bounce', recipients: [['kim.wu@yahoo.com', true]],
    raw: textBounce('MAILER-DAEMON@yahoo.com', 'Failure Notice',
      `Sorry, we were unable to deliver your message to the following address.

<kim.wu@yahoo.com>:
554: delivery error: dd This user doesn't have a yahoo.com account (kim.wu@yahoo.com) [0] - mta1042.mail.ne1.yahoo.com

--- Below this line is a copy of the message.
`) },
  { name: 'Yahoo text: mailbox full', kind: 'bounce', recipients: [['kim.wu@yahoo.com', false]],
    raw: textBounce('MAILER-DAEMON@yahoo.com', 'Failure Notice',
      `Sorry, we were unable to deliver your message to the following address.

<kim.wu@yahoo.com>:
Remote host said: 552 1 Requested mail action aborted, mailbox full [RCPT_TO]

--- Below this line is a copy of the message.
`) },
  { name: 'Gmail text (old style): permanent failure', kind: 'bounce', recipients: [[PAT, true]], lead: 'pat',
    raw: textBounce('Mail Delivery Subsystem <mailer-daemon@googlemail.com>', 'Delivery Status Notification (Failure)',
      `Delivery to the following recipient failed permanently:

     pat.lee@gmail.com

Technical details of permanent failure:
The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. 550 5.1.1

----- Original message -----

${ORIGINAL_HEADERS(PAT, '<s1.pat@mail.outreach.test>')}`) },
  { name: 'German bounce (Unzustellbar), user unknown', kind: 'bounce', lead: 'jane', recipients: [[JANE, true]],
    raw: textBounce('postmaster@acme-widgets.com', 'Unzustellbar: Quick idea for Acme Widgets',
      `Die Zustellung an folgende Empfänger oder Gruppen ist fehlgeschlagen:

jane.doe@acme-widgets.com
Die eingegebene E-Mail-Adresse wurde nicht gefunden.

Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'

Ursprüngliche Nachrichtenkopfzeilen:
${ORIGINAL_HEADERS()}`) },

  // ---- ARF complaints (RFC 5965) ----
  ...(['abuse', 'abuse', 'opt-out', 'fraud'] as const).map((type, i): InboundCase => ({
    name: `ARF feedback report (${type}${i === 1 ? ', no Original-Rcpt-To' : ''})`,
    kind: 'complaint',
    lead: i === 3 ? 'pat' : 'jane',
    raw: mail(
      {
        From: i === 3 ? 'staff@fbl.gmail-partner.test' : 'scomp@aol.net',
        Subject: 'Email Feedback Report for IP 203.0.113.5',
        'Content-Type': 'multipart/report; report-type=feedback-report; boundary="arf_b"',
      },
      `--arf_b
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP 203.0.113.5.

--arf_b
Content-Type: message/feedback-report

Feedback-Type: ${type}
User-Agent: SomeGenerator/1.0
Version: 1
${i === 1 ? '' : `Original-Rcpt-To: ${i === 3 ? PAT : JANE}\n`}Original-Mail-From: ${OURS}
Arrival-Date: Tue, 1 Dec 2026 09:00:05 +0000
Source-IP: 203.0.113.5

--arf_b
Content-Type: message/rfc822

${i === 3 ? ORIGINAL_HEADERS(PAT, '<s1.pat@mail.outreach.test>') : ORIGINAL_HEADERS()}

Hi, we help widget makers cut packaging costs.
--arf_b--
`,
    ),
  })),

  // ---- auto-replies: standard headers, non-standard headers, subjects only, bodies only ----
  { name: 'EN: Auto-Submitted auto-replied, out of office', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'Out of Office: Quick idea for Acme Widgets', 'Auto-Submitted': 'auto-replied' }, 'I am out of the office until December 8 with limited access to email.') },
  { name: 'EN: Exchange "Automatic reply" subject with X-Auto-Response-Suppress', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'Automatic reply: Quick idea for Acme Widgets', 'X-Auto-Response-Suppress': 'All', 'X-MS-Exchange-Inbox-Rules-Loop': JANE }, 'Thank you for your email. I am travelling and will reply when I am back.') },
  { name: 'EN: subject "Out of Office" only, no headers', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'Out of Office', 'In-Reply-To': '', References: '' }, 'Back on Monday.') },
  { name: 'EN: body only, Re: subject (Gmail vacation responder without headers)', kind: 'auto_reply', lead: 'jane',
    raw: reply({}, "Hi,\n\nI'm currently on annual leave and will respond to your email upon my return on 4 January.\n\nBest, Jane") },
  { name: 'EN: X-Autoreply header only', kind: 'auto_reply', lead: 'jane',
    raw: reply({ 'X-Autoreply': 'yes' }, 'Thanks for your message, we will get back to you within 2 business days.') },
  { name: 'EN: X-Autorespond header only', kind: 'auto_reply', lead: 'jane',
    raw: reply({ 'X-Autorespond': 'Quick idea for Acme Widgets' }, 'Your message has been received.') },
  { name: 'EN: Precedence auto_reply', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Precedence: 'auto_reply' }, 'Your message has been received by the Acme sales desk.') },
  { name: 'EN: Precedence bulk without list headers (helpdesk acknowledgement)', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Precedence: 'bulk', From: 'Acme Support <support@acme-widgets.com>', Subject: '[Ticket #4411] Quick idea for Acme Widgets' }, 'We received your request and opened ticket #4411.') },
  { name: 'EN: Auto-Submitted auto-generated (ticket system)', kind: 'auto_reply', lead: 'jane',
    raw: reply({ 'Auto-Submitted': 'auto-generated', Subject: 'Request received' }, 'This is an automatic confirmation.') },
  { name: 'EN: Precedence junk', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Precedence: 'junk' }, 'Mailbox not monitored.') },
  { name: 'DE: Abwesenheitsnotiz (subject only)', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'Abwesenheitsnotiz: Quick idea for Acme Widgets' }, 'Vielen Dank für Ihre Nachricht.') },
  { name: 'DE: Automatische Antwort with Auto-Submitted', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'Automatische Antwort: Quick idea for Acme Widgets', 'Auto-Submitted': 'auto-replied' }, 'Ich bin bis zum 08.12. nicht im Büro.') },
  { name: 'DE: body only ("Ich bin bis … nicht im Büro")', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'AW: Quick idea for Acme Widgets' }, 'Guten Tag,\n\nich bin bis einschließlich 12.12.2026 nicht im Büro. In dringenden Fällen wenden Sie sich bitte an info@acme-widgets.com.\n\nMit freundlichen Grüßen\nJane Doe') },
  { name: 'DE: "Ich bin im Urlaub" with X-Autoreply', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'AW: Quick idea', 'X-Autoreply': 'yes' }, 'Ich bin derzeit im Urlaub.') },
  { name: 'FR: Réponse automatique (subject only)', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: '=?UTF-8?Q?R=C3=A9ponse_automatique=C2=A0:_Quick_idea?=' }, 'Merci pour votre message.') },
  { name: 'FR: Absence (subject) with Auto-Submitted', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'Absence du bureau', 'Auto-Submitted': 'auto-replied' }, 'Je suis absente jusqu’au 10 décembre.') },
  { name: 'FR: body only ("Je suis absent du bureau")', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'RE: Quick idea for Acme Widgets' }, 'Bonjour,\n\nJe suis absent du bureau jusqu\'au lundi 7 décembre. Je serai de retour à cette date.\n\nCordialement') },
  { name: 'ES: Fuera de la oficina (subject only)', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'Fuera de la oficina: Quick idea for Acme Widgets' }, 'Gracias por su mensaje.') },
  { name: 'ES: Respuesta automática with X-Autorespond', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: '=?ISO-8859-1?Q?Respuesta_autom=E1tica:_Quick_idea?=', 'X-Autorespond': 'yes' }, 'Estoy de vacaciones.') },
  { name: 'ES: body only ("Estoy fuera de la oficina")', kind: 'auto_reply', lead: 'jane',
    raw: reply({ Subject: 'RE: Quick idea for Acme Widgets' }, 'Hola,\n\nEstoy fuera de la oficina hasta el 9 de diciembre con acceso limitado al correo.\n\nSaludos') },

  // ---- replies: quoted history, signatures, other languages, other addresses at the company ----
  { name: 'EN reply with quoted history and signature (our unsubscribe footer quoted)', kind: 'reply', lead: 'jane',
    raw: reply({}, `Hi Sam,\n\nSounds interesting, can we talk Thursday at 3pm?\n\nBest,\nJane\n--\nJane Doe | Head of Operations | Acme Widgets\n+1 555 0100\n\n${QUOTE_EN}`) },
  { name: 'EN reply, References only (no In-Reply-To)', kind: 'reply', lead: 'jane',
    raw: reply({ 'In-Reply-To': '', References: `<older@acme-widgets.com> ${OUR_ID}` }, `Send me pricing please.\n\n${QUOTE_EN}`) },
  { name: 'EN reply, HTML only with blockquote', kind: 'reply', lead: 'jane',
    raw: reply({ 'Content-Type': 'text/html; charset=utf-8' }, `<div>Yes, let's talk next week.</div><br><div class="gmail_quote">On Tue, Dec 1, 2026 Sam wrote:<blockquote>Hi Jane, worth a chat?</blockquote></div>`) },
  { name: 'EN reply, Outlook header block history', kind: 'reply', lead: 'jane',
    raw: reply({ Subject: 'RE: Quick idea for Acme Widgets' }, `Who else uses it?\n\nJane\n\nFrom: Sam Ops <${OURS}>\nSent: Tuesday, December 1, 2026 10:00 AM\nTo: Jane Doe <${JANE}>\nSubject: Quick idea for Acme Widgets\n\nHi Jane, worth a chat? Unsubscribe here.`) },
  { name: 'EN reply, "-----Original Message-----"', kind: 'reply', lead: 'jane',
    raw: reply({}, `Call me on Monday.\n\n-----Original Message-----\nFrom: Sam Ops\nSent: Tuesday\nSubject: Quick idea\nNot interested? Unsubscribe.`) },
  { name: 'EN reply, not the right person', kind: 'reply', lead: 'jane',
    raw: reply({}, `I'm not the right person for this, try our purchasing team.\n\n${QUOTE_EN}`) },
  { name: 'EN reply, quoted-printable with a long signature', kind: 'reply', lead: 'jane',
    raw: reply({ 'Content-Type': 'text/plain; charset=utf-8', 'Content-Transfer-Encoding': 'quoted-printable' }, 'Interesting =E2=80=94 what does it cost for 10k units?\n\nJane Doe\nAcme Widgets GmbH =C2=B7 Hauptstra=C3=9Fe 1 =C2=B7 Berlin\n') },
  { name: 'DE reply ("Am … schrieb …:")', kind: 'reply', lead: 'jane',
    raw: reply({ Subject: 'AW: Quick idea for Acme Widgets' }, `Hallo Sam,\n\ngerne, passt Ihnen Donnerstag?\n\nViele Grüße\nJane\n\nAm Di., 1. Dez. 2026 um 10:00 Uhr schrieb Sam Ops <${OURS}>:\n> Hi Jane,\n> Not interested? Unsubscribe.`) },
  { name: 'FR reply ("Le … a écrit :")', kind: 'reply', lead: 'jane',
    raw: reply({ Subject: 'RE: Quick idea for Acme Widgets' }, `Bonjour Sam,\n\nOui, envoyez-moi une documentation.\n\nJane\n\nLe mar. 1 déc. 2026 à 10:00, Sam Ops <${OURS}> a écrit :\n> Bonjour Jane`) },
  { name: 'ES reply ("El … escribió:")', kind: 'reply', lead: 'jane',
    raw: reply({ Subject: 'RE: Quick idea for Acme Widgets' }, `Hola Sam,\n\n¿Podemos hablar el jueves?\n\nJane\n\nEl mar, 1 dic 2026 a las 10:00, Sam Ops (<${OURS}>) escribió:\n> Hola Jane`) },
  { name: 'reply from the lead, not threaded (a new message)', kind: 'reply', lead: 'jane',
    raw: mail({ From: `Jane Doe <${JANE}>`, Subject: 'your email last week' }, 'Hi Sam, I lost your email, can you call me?') },
  { name: 'reply from another address at the same company, not threaded', kind: 'reply', lead: 'jane', company: true,
    raw: mail({ From: 'Bob Smith <bob.smith@acme-widgets.com>', Subject: 'Jane forwarded me your note' }, 'Hi Sam, Jane asked me to follow up. When can we meet?') },
  { name: 'reply from a colleague, threaded (matched by our Message-ID)', kind: 'reply', lead: 'jane',
    raw: reply({ From: 'Bob Smith <bob.smith@acme-widgets.com>' }, `I handle this for Jane. Let's talk.\n\n${QUOTE_EN}`) },
  { name: 'reply from a personal address of the lead, threaded', kind: 'reply', lead: 'jane',
    raw: reply({ From: 'Jane Doe <jane.doe.home@gmail.com>' }, `Answering from my phone: yes, interested.\n\n${QUOTE_EN}`) },
  { name: 'forward by the lead to us with a note (References carry our id)', kind: 'reply', lead: 'jane',
    raw: reply({ Subject: 'Fwd: Quick idea for Acme Widgets', 'In-Reply-To': '' }, `Adding my colleague Bob, he owns packaging.\n\n---------- Forwarded message ---------\nFrom: Sam Ops <${OURS}>\nDate: Tue, Dec 1, 2026\nSubject: Quick idea for Acme Widgets\nTo: ${JANE}\n\nHi Jane, worth a chat?`) },
  { name: 'forward from a colleague at the company, unthreaded', kind: 'reply', lead: 'jane', company: true,
    raw: mail({ From: 'Lisa Park <lisa.park@acme-widgets.com>', Subject: 'Fwd: Quick idea for Acme Widgets' }, `FYI, we are interested.\n\n---------- Forwarded message ---------\nFrom: Sam Ops <${OURS}>\nSubject: Quick idea for Acme Widgets\n\nHi Jane`) },
  { name: 'reply from Pat (gmail.com lead), threaded by email only', kind: 'reply', lead: 'pat',
    raw: mail({ From: `Pat Lee <${PAT}>`, Subject: 'Re: Quick idea' }, 'Sure, send details.') },

  // ---- unsubscribe requests in four languages ----
  { name: 'EN: "unsubscribe" as the whole reply', kind: 'unsubscribe', lead: 'jane', raw: reply({}, `unsubscribe\n\n${QUOTE_EN}`) },
  { name: 'EN: "STOP"', kind: 'unsubscribe', lead: 'jane', raw: reply({}, 'STOP') },
  { name: 'EN: "Please remove me from your list"', kind: 'unsubscribe', lead: 'jane', raw: reply({}, `Please remove me from your list.\n\n${QUOTE_EN}`) },
  { name: 'EN: "Not interested, thanks"', kind: 'unsubscribe', lead: 'jane', raw: reply({}, `Not interested, thanks.\n\nJane`) },
  { name: 'EN: "Do not email me again"', kind: 'unsubscribe', lead: 'jane', raw: reply({}, 'Do not email me again.') },
  { name: 'EN: subject "Unsubscribe", empty body', kind: 'unsubscribe', lead: 'jane', raw: reply({ Subject: 'Unsubscribe' }, '') },
  { name: 'DE: "Kein Interesse"', kind: 'unsubscribe', lead: 'jane', raw: reply({ Subject: 'AW: Quick idea' }, 'Kein Interesse, danke.') },
  { name: 'DE: "Bitte keine E-Mails mehr"', kind: 'unsubscribe', lead: 'jane', raw: reply({ Subject: 'AW: Quick idea' }, 'Bitte keine E-Mails mehr an diese Adresse.') },
  { name: 'FR: "Merci de me désinscrire"', kind: 'unsubscribe', lead: 'jane', raw: reply({ Subject: 'RE: Quick idea' }, 'Merci de me désinscrire de vos envois.') },
  { name: 'FR: "Pas intéressé"', kind: 'unsubscribe', lead: 'jane', raw: reply({ Subject: 'RE: Quick idea' }, 'Pas intéressé.') },
  { name: 'ES: "Por favor, darme de baja"', kind: 'unsubscribe', lead: 'jane', raw: reply({ Subject: 'RE: Quick idea' }, 'Por favor, darme de baja de su lista.') },
  { name: 'ES: "No me interesa"', kind: 'unsubscribe', lead: 'jane', raw: reply({ Subject: 'RE: Quick idea' }, 'No me interesa, gracias.') },
  { name: 'colleague asks to stop writing to the company (unthreaded)', kind: 'unsubscribe', lead: 'jane', company: true,
    raw: mail({ From: 'legal@acme-widgets.com', Subject: 'Your emails' }, 'Please stop emailing our staff.') },

  // ---- none of ours ----
  { name: 'newsletter with List-Unsubscribe (mentions unsubscribe)', kind: 'other', lead: null,
    raw: mail({ From: 'Weekly Digest <news@saas-weekly.test>', Subject: 'This week in SaaS', 'List-Unsubscribe': '<https://saas-weekly.test/u/1>', 'List-Id': '<weekly.saas-weekly.test>', Precedence: 'bulk' }, 'Top stories... To unsubscribe click here.') },
  { name: 'personal note from an unknown address', kind: 'other', lead: null,
    raw: mail({ From: 'Max Mustermann <max@unrelated.test>', Subject: 'Lunch tomorrow?' }, 'Are we still on for lunch?') },
  { name: 'reply to a message that is not ours, unknown sender', kind: 'other', lead: null,
    raw: mail({ From: 'someone@elsewhere.test', Subject: 'Re: invoice 2291', 'In-Reply-To': '<inv-2291@billing.elsewhere.test>' }, `Paid yesterday.\n\nOn Mon someone wrote:\n> invoice attached`) },
  { name: 'stranger at gmail.com (same free-mail domain as a lead) is not the same company', kind: 'other', lead: null,
    raw: mail({ From: 'random.person@gmail.com', Subject: 'Hello' }, 'Are you the guy from the conference?') },
  { name: 'stranger at gmail.com asking to stop (nothing of ours)', kind: 'other', lead: null,
    raw: mail({ From: 'who.is.this@gmail.com', Subject: 'stop' }, 'stop') },
  { name: 'notification from a SaaS (no list headers, no-reply)', kind: 'other', lead: null,
    raw: mail({ From: 'GitHub <noreply@github.test>', Subject: '[corofy] New issue opened' }, 'A new issue was opened.') },
  { name: 'calendar invitation from an unknown person', kind: 'other', lead: null,
    raw: mail({ From: 'ceo@partner.test', Subject: 'Invitation: Sync @ Wed', 'Content-Type': 'multipart/alternative; boundary="cal"' }, '--cal\nContent-Type: text/plain\n\nJoin the meeting.\n--cal\nContent-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n--cal--\n') },
  { name: 'forward of a third-party message, unknown sender', kind: 'other', lead: null,
    raw: mail({ From: 'friend@elsewhere.test', Subject: 'Fwd: funny' }, '---------- Forwarded message ---------\nFrom: a@b.test\n\nlol') },
  { name: 'spam without any relation', kind: 'other', lead: null,
    raw: mail({ From: 'winner@lottery.test', Subject: 'You have won!!!' }, 'Claim your prize now.') },
  { name: 'message without Message-ID from an unknown sender', kind: 'other', lead: null,
    raw: mail({ From: 'nomsgid@elsewhere.test', Subject: 'hi', 'Message-ID': '' }, 'no message id here') },
];
