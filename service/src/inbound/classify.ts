import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';

// One classifier for every inbound message, whichever way it arrived (the IMAP
// watcher, POST /v1/inbound, n8n's Email Trigger). It reads the message alone;
// whether it answers something of ours is the database's decision
// (`record_inbound`), so a human message is only a `response` candidate here.

export type InboundKind = 'reply' | 'auto_reply' | 'bounce' | 'complaint' | 'unsubscribe' | 'other';

export interface BounceRecipient {
  email: string;
  /** The enhanced status code (RFC 3463), e.g. "5.1.1"; inferred from the wording when the server gives none. */
  status: string;
  /** The address does not exist or its domain takes no mail: suppress it. */
  hard: boolean;
  diagnostic: string | null;
}

export interface ClassifiedMessage {
  /** What the message itself is; `response` is a human message that may answer one of our sends. */
  shape: 'response' | 'auto_reply' | 'bounce' | 'complaint' | 'other';
  /** Our dedupe key: the Message-ID, or a hash of the raw message when it has none. */
  messageKey: string;
  messageId: string | null;
  inReplyTo: string | null;
  /** In-Reply-To, References and (in bounces and complaints) the Message-IDs of the quoted original. */
  relatedMessageIds: string[];
  from: string | null;
  subject: string;
  /** The new text of the message, without quoted history. */
  text: string;
  receivedAt: string | null;
  /** A response asking us to stop writing (any of the four languages). */
  asksToStop: boolean;
  bounce: { recipients: BounceRecipient[] } | null;
  /** The complained-about address (ARF Original-Rcpt-To or the original's To). */
  complaintEmail: string | null;
  /** Why it got its shape, for logs and tests. */
  reason: string;
}

const MAX_TEXT = 20_000;

export async function classifyMessage(raw: Buffer | string): Promise<ClassifiedMessage> {
  const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const mail = await simpleParser(buf, { skipHtmlToText: false, skipTextToHtml: true, skipImageLinks: true });
  return classifyParsed(mail, buf);
}

export function classifyParsed(mail: ParsedMail, raw: Buffer): ClassifiedMessage {
  const messageId = normMessageId(mail.messageId);
  const inReplyTo = normMessageId(firstString(mail.inReplyTo));
  const references = toArray(mail.references).map(normMessageId).filter((v): v is string => v !== null);
  const from = firstAddress(mail.from);
  const subject = (mail.subject ?? '').trim();
  const fullText = (mail.text ?? htmlToText(typeof mail.html === 'string' ? mail.html : '')).slice(0, 200_000);
  const attachmentsText = mail.attachments
    .filter((a) => /^(message\/|text\/)/i.test(a.contentType) && a.size < 2_000_000)
    .map((a) => a.content.toString('utf8'))
    .join('\n');
  const base = {
    messageKey: messageId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`,
    messageId,
    inReplyTo,
    from,
    subject,
    receivedAt: mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : null,
    asksToStop: false,
    bounce: null,
    complaintEmail: null,
  };
  const quoted = (extra: string[]) =>
    unique([...(inReplyTo ? [inReplyTo] : []), ...references, ...extra].filter((id) => id !== messageId));

  const contentType = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const reportType = contentType?.value === 'multipart/report' ? (contentType.params?.['report-type'] ?? '').toLowerCase() : '';
  const body = `${fullText}\n${attachmentsText}`;

  // RFC 5965 ARF: a mailbox provider forwarding a user's "this is spam"
  // a report flattened to text (e.g. by n8n's resolved Email Trigger item) still carries its fields
  if (reportType === 'feedback-report' || (/^Feedback-Type:\s*\S+/im.test(body) && /^(Original-Rcpt-To|User-Agent|Version):/im.test(body))) {
    const rcpt = /^Original-Rcpt-To:\s*<?([^\s>]+@[^\s>]+)>?/im.exec(body)?.[1] ?? originalHeader(body, 'To');
    return {
      ...base,
      shape: 'complaint',
      relatedMessageIds: quoted(embeddedMessageIds(body, messageId)),
      text: '',
      complaintEmail: rcpt ? rcpt.toLowerCase() : null,
      reason: 'ARF feedback report',
    };
  }

  const isDsn = reportType === 'delivery-status' || (/^Final-Recipient:/im.test(body) && /^Action:/im.test(body));
  if (isDsn || looksLikeBounce(mail, from, subject)) {
    const recipients = isDsn ? dsnRecipients(body) : null;
    const failed = recipients ?? freeFormBounceRecipients(fullText + '\n' + attachmentsText, from);
    const relatedMessageIds = quoted(embeddedMessageIds(body, messageId));
    if (failed.length > 0) {
      return { ...base, shape: 'bounce', relatedMessageIds, text: '', bounce: { recipients: failed }, reason: recipients ? 'RFC 3464 DSN' : 'bounce text' };
    }
    if (isDsn) {
      // delivered, relayed, expanded or only delayed: a report, not a failure
      return { ...base, shape: 'other', relatedMessageIds, text: '', reason: 'DSN without failed recipients' };
    }
  }

  const newText = stripQuotedHistory(fullText).slice(0, MAX_TEXT);
  const auto = autoReplyReason(mail, subject, newText);
  if (auto) {
    return { ...base, shape: 'auto_reply', relatedMessageIds: quoted([]), text: newText, reason: auto };
  }

  if (isBulk(mail)) {
    return { ...base, shape: 'other', relatedMessageIds: quoted([]), text: newText, reason: 'mailing list / newsletter' };
  }

  return {
    ...base,
    shape: 'response',
    relatedMessageIds: quoted([]),
    text: newText,
    asksToStop: asksToStop(newText, subject),
    reason: inReplyTo || references.length > 0 ? 'threaded response' : 'unthreaded message',
  };
}

// ---- bounces ---------------------------------------------------------------

const BOUNCE_FROM = /^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounce|bounces|mdaemon|mail\.delivery\.system)@/i;
const BOUNCE_SUBJECT =
  /(undeliver|undelivered mail|delivery status notification \((failure|delay)\)|mail delivery (failed|failure|subsystem)|failure notice|returned mail|delivery (has )?failed|could not be delivered|non[- ]?remis|unzustellbar|no se puede entregar|nicht zugestellt|delivery failure|message not delivered|rejected:)/i;

function looksLikeBounce(mail: ParsedMail, from: string | null, subject: string): boolean {
  if (from && BOUNCE_FROM.test(from)) return true;
  if (mail.headers.has('x-failed-recipients')) return true;
  return BOUNCE_SUBJECT.test(subject) && !/^(re|aw|fw|fwd|wg|tr|rv)\s*:/i.test(subject);
}

/** Per-recipient groups of an RFC 3464 report: failed ones only (a delivered or delayed one is no bounce). */
function dsnRecipients(body: string): BounceRecipient[] {
  const out: BounceRecipient[] = [];
  const unfolded = body.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  for (const group of unfolded.split(/\n\s*\n/)) {
    const rcpt = /^Final-Recipient:\s*(?:rfc822;)?\s*<?([^\s<>;]+@[^\s<>;]+)>?/im.exec(group)?.[1]
      ?? /^Original-Recipient:\s*(?:rfc822;)?\s*<?([^\s<>;]+@[^\s<>;]+)>?/im.exec(group)?.[1];
    if (!rcpt) continue;
    const action = (/^Action:\s*(\S+)/im.exec(group)?.[1] ?? 'failed').toLowerCase();
    if (action !== 'failed') continue;
    const diagnostic = /^Diagnostic-Code:\s*(?:[a-z-]+;\s*)?(.+)$/im.exec(group)?.[1]?.trim() ?? null;
    const declared = /^Status:\s*(\d\.\d{1,3}\.\d{1,3})/im.exec(group)?.[1];
    const status = bestStatus(declared, diagnostic ?? '');
    out.push({ email: rcpt.toLowerCase(), status, hard: isHard(status, diagnostic ?? ''), diagnostic });
  }
  return uniqueBy(out, (r) => r.email);
}

const EMAIL = /<?([a-z0-9._%+'=-]+@[a-z0-9.-]+\.[a-z]{2,})>?/i;

/**
 * Free-form bounces (Postfix without DSN, Exim, Sendmail, qmail, Exchange,
 * Gmail, Yahoo, …): every failed address the text names, each with the status
 * code nearest to it. Addresses of the sender itself (the bounce's From) and
 * the postmaster are not recipients.
 */
function freeFormBounceRecipients(text: string, from: string | null): BounceRecipient[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const found: { email: string; line: number }[] = [];
  const headerish = /^\s*(from|to|cc|reply-to|return-path|sender|message-id|in-reply-to|references|subject|date|received|dkim|x-[a-z-]+|reporting-mta|arrival-date):/i;
  const stopAt = lines.findIndex((l) =>
    /^(-{2,}.*(original message|undelivered message|headers? of|message header|below this line)|.*original message headers|Return-Path:|Received: from )/i.test(l.trim()),
  );
  const end = stopAt >= 0 ? stopAt : lines.length;
  for (let i = 0; i < end; i++) {
    const line = lines[i]!;
    if (headerish.test(line)) continue;
    for (const m of line.matchAll(new RegExp(EMAIL.source, 'gi'))) {
      const email = m[1]!.toLowerCase().replace(/\.$/, '');
      if (from && email === from) continue;
      if (/^(mailer-daemon|postmaster|mail-daemon|noreply|no-reply)@/.test(email)) continue;
      found.push({ email, line: i });
    }
  }
  const xFailed = /^X-Failed-Recipients:\s*(.+)$/im.exec(text)?.[1];
  const candidates = uniqueBy(found, (f) => f.email);
  if (candidates.length === 0 && xFailed) {
    for (const e of xFailed.split(',')) candidates.push({ email: e.trim().toLowerCase(), line: 0 });
  }
  return candidates.map(({ email, line }) => {
    // the diagnostic is what the text says from this address on, up to the next address
    const next = candidates.find((c) => c.line > line)?.line ?? Math.min(end, line + 12);
    const window = lines.slice(line, Math.max(next, line + 1) + (next === line ? 0 : 0)).join(' ').slice(0, 1500);
    const context = window.length > 20 ? window : lines.slice(line, line + 8).join(' ');
    const wholeContext = context + ' ' + (candidates.length === 1 ? lines.slice(0, end).join(' ') : '');
    const status = bestStatus(undefined, wholeContext);
    return { email, status, hard: isHard(status, wholeContext), diagnostic: context.replace(/\s+/g, ' ').trim().slice(0, 300) || null };
  });
}

/** The most specific status code: the declared one unless the diagnostic carries a more specific one. */
function bestStatus(declared: string | undefined, diagnostic: string): string {
  const inText = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(diagnostic)?.[1];
  if (declared && !(declared.endsWith('.0.0') && inText && inText[0] === declared[0])) return declared;
  if (inText) return inText;
  if (declared) return declared;
  const smtp = /\b([45])\d\d\b/.exec(diagnostic)?.[1];
  if (HARD_WORDS.test(diagnostic)) return NO_DOMAIN_WORDS.test(diagnostic) ? '5.1.2' : '5.1.1';
  if (FULL_WORDS.test(diagnostic)) return smtp === '5' ? '5.2.2' : '4.2.2';
  if (POLICY_WORDS.test(diagnostic)) return '5.7.1';
  if (TEMP_WORDS.test(diagnostic)) return '4.4.1';
  return smtp === '4' ? '4.0.0' : '5.0.0';
}

const NO_DOMAIN_WORDS = /(host or domain name not found|domain (name )?not found|no mx|null mx|name service error|unrouteable (mail )?domain|domain does not exist|DNS Error: .*(NXDOMAIN|domain name not found)|nxdomain)/i;
const HARD_WORDS = new RegExp(
  [
    'user unknown', 'unknown user', 'no such user', 'no such (mailbox|recipient|address)', 'mailbox (unavailable|not found|does not exist)',
    'recipient (address )?rejected: (user unknown|undeliverable address|unknown)', 'address (not found|does not exist|rejected)',
    'does not exist', "couldn't be found", 'could not be found', 'not a valid (mailbox|recipient)', 'invalid (mailbox|recipient)',
    'no mailbox here', 'unknown (local[- ]part|recipient)', 'account (has been )?(disabled|deleted|closed)', "doesn't have a .* account",
    'RecipNotFound', 'recipient not found', 'bad destination mailbox', 'unrouteable address', 'no longer (available|active|in use)',
    NO_DOMAIN_WORDS.source,
  ].join('|'),
  'i',
);
const FULL_WORDS = /(mailbox (is )?full|over ?quota|quota exceeded|insufficient (system )?storage|exceeded (the )?storage|mailbox size limit)/i;
const POLICY_WORDS = /(blocked|blacklist|block ?list|spam|policy|reputation|not authori[sz]ed|access denied|rejected for policy|DMARC|SPF|message (was )?rejected)/i;
const TEMP_WORDS = /(timed? ?out|try again later|temporar|greylist|deferred|connection refused|too many connections)/i;

/**
 * Hard: the address or its domain does not exist (x.1.1 bad mailbox, x.1.2 bad
 * domain, x.1.3 bad syntax, x.1.6 moved, x.1.10 null MX, x.4.4 unroutable), or
 * a generic permanent code whose wording says so. Full mailboxes (x.2.2),
 * policy and reputation blocks (x.7.x) and anything temporary are soft.
 */
function isHard(status: string, diagnostic: string): boolean {
  if (!status.startsWith('5')) return false;
  const [, subject, detail] = status.split('.').map(Number) as [number, number, number];
  if (subject === 1 && [1, 2, 3, 6, 10].includes(detail)) return true;
  if (subject === 4 && detail === 4) return true;
  if (subject === 2 && detail === 1 && HARD_WORDS.test(diagnostic)) return true; // "mailbox disabled"
  if (subject === 7 || FULL_WORDS.test(diagnostic) || POLICY_WORDS.test(diagnostic) && !HARD_WORDS.test(diagnostic)) return false;
  return (subject === 0 || subject === 1) && HARD_WORDS.test(diagnostic);
}

// ---- auto-replies ------------------------------------------------------------

const OOO_SUBJECT = new RegExp(
  [
    'out of (the )?office', 'automatic reply', 'auto(matic)?[- ]?(reply|response)', 'autoreply', 'away from (the )?office', 'on vacation', 'on leave',
    'abwesenheits?notiz', 'automatische antwort', 'abwesend', 'nicht im b(ü|ue)ro', 'urlaub', 'au(ß|ss)er haus',
    'r(é|e)ponse automatique', "absence", 'absent', "en cong(é|e)s?", 'hors du bureau',
    'fuera de la oficina', 'respuesta autom(á|a)tica', 'ausente', 'de vacaciones', 'fuera de oficina',
  ].join('|'),
  'i',
);
const OOO_BODY = new RegExp(
  [
    "i(?:'m| am) (currently )?(out of (the )?office|away|on (annual )?leave|on vacation|travel+ing with limited)",
    'i will be (out of the office|back|away)', 'limited access to (my )?e-?mail', 'i will (respond|reply|get back to you) (to your (e-?mail|message) )?(up)?on my return',
    'ich bin (bis|vom|derzeit|zur zeit|momentan|ab) .{0,60}(nicht im b(ü|ue)ro|abwesend|im urlaub|au(ß|ss)er haus)', 'ich bin (derzeit |zurzeit |momentan )?(nicht im b(ü|ue)ro|abwesend|im urlaub)',
    'je suis (actuellement )?(absente?|en cong(é|e)s?|hors du bureau)', 'je serai de retour', "j'aurai un acc(è|e)s limit(é|e)",
    'estoy (actualmente )?(fuera de la oficina|de vacaciones|ausente)', 'estar(é|e) fuera', 'volver(é|e) el',
  ].join('|'),
  'i',
);

function autoReplyReason(mail: ParsedMail, subject: string, text: string): string | null {
  const h = (name: string) => headerText(mail, name);
  const autoSubmitted = h('auto-submitted').toLowerCase();
  if (autoSubmitted && autoSubmitted !== 'no') return `Auto-Submitted: ${autoSubmitted}`;
  if (mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond') || mail.headers.has('x-autoresponse')) {
    return 'X-Autoreply/X-Autorespond header';
  }
  const precedence = h('precedence').toLowerCase();
  if (precedence === 'auto_reply') return 'Precedence: auto_reply';
  if (/^(bulk|junk)$/.test(precedence) && !isMailingList(mail)) {
    return `Precedence: ${precedence}`;
  }
  if (h('x-auto-response-suppress') && /^(automatic reply|automatische antwort|réponse automatique|respuesta automática)/i.test(subject)) {
    return 'Exchange automatic reply';
  }
  if (OOO_SUBJECT.test(subject)) return 'out-of-office subject';
  if (OOO_BODY.test(text.slice(0, 2000))) return 'out-of-office text';
  return null;
}

function isBulk(mail: ParsedMail): boolean {
  const precedence = headerText(mail, 'precedence').toLowerCase();
  return isMailingList(mail) || precedence === 'list' || /^(bulk|junk)$/.test(precedence);
}

/** mailparser gathers the List-* headers under `list`. */
function isMailingList(mail: ParsedMail): boolean {
  return mail.headers.has('list') || mail.headers.has('list-id') || mail.headers.has('list-unsubscribe');
}

// ---- responses -----------------------------------------------------------------

const STOP_PHRASES = new RegExp(
  [
    '^\\s*(stop|unsubscribe|remove)\\b', '\\bunsubscribe( me)?\\b', '\\bremove me\\b', '\\btake me off\\b', '\\bnot interested\\b',
    "\\b(please )?(don't|do not|stop) (e-?mail|contact|writ)", '\\bopt[- ]?out\\b',
    '\\babmelden\\b', '\\bkein interesse\\b', '\\b(bitte )?(keine|nicht mehr) (e-?mails?|nachrichten|kontakt)', '\\bentfernen sie mich\\b', '\\baustragen\\b',
    'd(é|e)sinscri', '\\bpas int(é|e)ress(é|e)e?s?(?![a-zà-ÿ])', '\\bretirez[- ]moi\\b', '\\bne (plus )?me (contactez|(é|e)crivez) plus\\b', '\\barr(ê|e)tez\\b',
    '\\bdar(me)? de baja\\b', '\\bno (me )?interesa\\b', '\\bno estoy interesad[oa]\\b', '\\bel(í|i)m(í|i)n(e|a)me\\b', '\\bno me (escriba|contacte)', '\\bbaja\\b',
  ].join('|'),
  'im',
);

function asksToStop(text: string, subject: string): boolean {
  const firstLines = text.split('\n').slice(0, 12).join('\n');
  return STOP_PHRASES.test(firstLines) || /^\s*(unsubscribe|stop|remove me|abmelden|désinscrire|baja)\s*$/i.test(subject);
}

/**
 * The new text of a reply: everything above the quoted history ("On … wrote:",
 * "Am … schrieb …:", "Le … a écrit :", "El … escribió:", Outlook's header
 * block, "-----Original Message-----") and without ">" lines.
 */
const WROTE = /^(on|am|le|el)\s.{4,200}\s(wrote|schrieb|a écrit|escribió)\s?:\s*$/i;

export function stripQuotedHistory(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const two = `${line} ${lines[i + 1] ?? ''}`;
    if (
      /^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|forwarded message|weitergeleitete nachricht)/i.test(line.trim()) ||
      /^_{10,}\s*$/.test(line.trim()) ||
      // "On … wrote:" may be wrapped onto a second line
      /^(on|am|le|el)\s/i.test(line.trim()) && [line, two].some((l) => WROTE.test(l.trim())) ||
      /^(from|von|de|da):\s.+/i.test(line.trim()) && /^(sent|gesendet|envoyé|enviado|date|datum|fecha):\s/i.test((lines[i + 1] ?? '').trim())
    ) {
      break;
    }
    if (/^\s*>/.test(line)) continue;
    out.push(line);
  }
  return out.join('\n').trim();
}

// ---- helpers -----------------------------------------------------------------------

export function normMessageId(id: string | undefined | null): string | null {
  if (!id) return null;
  const v = id.trim().replace(/^<|>$/g, '').trim();
  return v === '' ? null : `<${v}>`;
}

function embeddedMessageIds(body: string, own: string | null): string[] {
  const ids: string[] = [];
  for (const m of body.matchAll(/^Message-ID:\s*(<[^>\s]+>)/gim)) {
    const id = normMessageId(m[1]);
    if (id && id !== own) ids.push(id);
  }
  return ids;
}

function originalHeader(body: string, name: string): string | null {
  const m = new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(body);
  return m ? (EMAIL.exec(m[1]!)?.[1] ?? null) : null;
}

function headerText(mail: ParsedMail, name: string): string {
  const v = mail.headers.get(name);
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'object' && 'value' in v && typeof (v as { value: unknown }).value === 'string') {
    return (v as { value: string }).value.trim();
  }
  return String(v).trim();
}

function firstAddress(a: AddressObject | AddressObject[] | undefined): string | null {
  const list = toArray(a);
  for (const obj of list) {
    for (const v of obj.value) {
      if (v.address) return v.address.toLowerCase();
    }
  }
  return null;
}

function firstString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function toArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function uniqueBy<T>(values: T[], key: (v: T) => string): T[] {
  const seen = new Set<string>();
  return values.filter((v) => (seen.has(key(v)) ? false : (seen.add(key(v)), true)));
}

function htmlToText(html: string): string {
  return html.replace(/<(br|p|div)[^>]*>/gi, '\n').replace(/<[^>]+>/g, '').replace(/&nbsp;/g, ' ');
}
