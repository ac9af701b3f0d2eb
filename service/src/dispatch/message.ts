import MailComposer from 'nodemailer/lib/mail-composer';

// The one way Corofy writes an email as bytes (RFC 5322), for both deliveries:
// the dispatcher sends these bytes over SMTP, and n8n items carry them as `raw`
// (base64url) for senders that send through an API (Gmail users.messages.send).
// The headers are the ones mailbox providers require of bulk senders: our own
// Message-ID, the RFC 8058 one-click unsubscribe pair, and threading for
// follow-ups. No tracking pixels, no link rewriting: the bodies go out as composed.

export interface OutgoingMessage {
  /** Without angle brackets: `<local>@<sender's domain>` as stored on the send. */
  messageId: string;
  from: { name: string | null; email: string };
  to: string;
  subject: string;
  text: string;
  html: string;
  date: Date;
  /** The https one-click target (POST /unsubscribe/TOKEN). */
  unsubscribeUrl: string;
  /** Adds `<mailto:…>` to List-Unsubscribe when the sender has an unsubscribe address. */
  unsubscribeEmail?: string | null;
  /** Message-IDs of the earlier steps of this sequence, oldest first: makes a follow-up a reply in the same thread. */
  thread?: string[];
}

export interface BuiltMessage {
  raw: Buffer;
  envelope: { from: string; to: string[] };
  /** The header values as written (for items and tests). */
  headers: Record<string, string>;
}

const bracket = (id: string) => `<${id.replace(/^<|>$/g, '')}>`;

/** The Message-ID of a send: unique, on the sender's domain (some filters distrust foreign ones). */
export function newMessageId(sendId: string, fromEmail: string, random: string): string {
  const domain = fromEmail.slice(fromEmail.lastIndexOf('@') + 1).toLowerCase();
  return `${sendId}.${random}@${domain}`;
}

export function listUnsubscribeHeader(unsubscribeUrl: string, unsubscribeEmail?: string | null): string {
  const links = [`<${unsubscribeUrl}>`];
  if (unsubscribeEmail) links.push(`<mailto:${unsubscribeEmail}?subject=unsubscribe>`);
  return links.join(', ');
}

export async function buildMessage(m: OutgoingMessage): Promise<BuiltMessage> {
  const headers: Record<string, string> = {
    'List-Unsubscribe': listUnsubscribeHeader(m.unsubscribeUrl, m.unsubscribeEmail),
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
  const thread = (m.thread ?? []).filter(Boolean);
  if (thread.length > 0) {
    headers['In-Reply-To'] = bracket(thread.at(-1)!);
    headers['References'] = thread.map(bracket).join(' ');
  }
  const composer = new MailComposer({
    messageId: bracket(m.messageId),
    date: m.date,
    from: m.from.name ? { name: m.from.name, address: m.from.email } : m.from.email,
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    headers,
    // no X-Mailer naming the library: it says nothing the recipient needs
    xMailer: false,
  } as ConstructorParameters<typeof MailComposer>[0]);
  const raw = await new Promise<Buffer>((resolve, reject) =>
    composer.compile().build((err, message) => (err ? reject(err) : resolve(message))),
  );
  return {
    raw,
    envelope: { from: m.from.email, to: [m.to] },
    headers: { 'Message-ID': bracket(m.messageId), ...headers },
  };
}

/** The whole message as base64url, the shape Gmail's users.messages.send takes as `raw`. */
export function toBase64Url(raw: Buffer): string {
  return raw.toString('base64url');
}
