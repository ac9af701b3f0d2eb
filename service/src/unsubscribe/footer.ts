import type { Config } from '../config/env';
import type { Database } from '../db/database';
import { unsubscribeSecret, unsubscribeToken } from './unsubscribe-token';

export interface SenderIdentity {
  fromName?: string | null;
  postalAddress?: string | null;
  /** GDPR Art. 14 notice (where the data came from, why, how to object): linked when set. */
  privacyNoticeUrl?: string | null;
}

export interface UnsubscribeLinks {
  /** The page with the confirm button; also the RFC 8058 one-click POST target. */
  unsubscribeUrl: string;
  /** `List-Unsubscribe` header value. */
  listUnsubscribe: string;
  /** `List-Unsubscribe-Post` header value (RFC 8058). */
  listUnsubscribePost: string;
}

export interface UnsubscribeFooter extends UnsubscribeLinks {
  text: string;
  html: string;
}

/** Links point at COROFY_PUBLIC_URL, else at the origin the request came in on. */
export function publicBaseUrl(config: Config, requestUrl: string): string {
  return (config.publicUrl ?? new URL(requestUrl).origin).replace(/\/+$/, '');
}

export async function unsubscribeLinks(
  deps: { config: Config; db: Database },
  baseUrl: string,
  leadId: string,
): Promise<UnsubscribeLinks> {
  const token = unsubscribeToken(await unsubscribeSecret(deps), leadId);
  const unsubscribeUrl = `${baseUrl}/unsubscribe/${token}`;
  return {
    unsubscribeUrl,
    listUnsubscribe: `<${unsubscribeUrl}>`,
    listUnsubscribePost: 'List-Unsubscribe=One-Click',
  };
}

/** The footer's words in the email's language (English by default). */
export interface FooterWords {
  notInterested: string;
  unsubscribe: string;
  privacyNotice: string;
}

const ENGLISH: FooterWords = { notInterested: 'Not interested?', unsubscribe: 'Unsubscribe', privacyNotice: 'How we got your address, and your rights' };

/**
 * The footer every composed email carries (CAN-SPAM: a working opt-out and the
 * sender's postal address; compose refuses a sender without one), and the
 * sender's privacy notice when it has one (GDPR Art. 14). Append `text` to the
 * plain body and `html` to the HTML body.
 */
export async function unsubscribeFooter(
  deps: { config: Config; db: Database },
  baseUrl: string,
  leadId: string,
  sender: SenderIdentity,
  words: FooterWords = ENGLISH,
): Promise<UnsubscribeFooter> {
  const links = await unsubscribeLinks(deps, baseUrl, leadId);
  return { ...links, ...renderFooter(links.unsubscribeUrl, sender, words) };
}

/** The footer's text and HTML around a given unsubscribe link. */
export function renderFooter(unsubscribeUrl: string, sender: SenderIdentity, words: FooterWords = ENGLISH): { text: string; html: string } {
  const who = [sender.fromName, sender.postalAddress].filter((v): v is string => !!v && v.trim() !== '');
  const notice = sender.privacyNoticeUrl?.trim() || undefined;
  const text =
    `\n\n--\n${who.length > 0 ? `${who.join(', ')}\n` : ''}${words.notInterested} ${words.unsubscribe}: ${unsubscribeUrl}\n` +
    (notice ? `${words.privacyNotice}: ${notice}\n` : '');
  const html =
    `<hr><p style="font-size:12px;color:#666">${who.map(escapeHtml).join(', ')}${who.length > 0 ? '<br>' : ''}` +
    `${escapeHtml(words.notInterested)} <a href="${escapeHtml(unsubscribeUrl)}">${escapeHtml(words.unsubscribe)}</a>` +
    (notice ? `<br><a href="${escapeHtml(notice)}">${escapeHtml(words.privacyNotice)}</a>` : '') +
    `</p>`;
  return { text, html };
}

/** Adds `unsubscribeUrl`, `listUnsubscribe` and `listUnsubscribePost` to each Send. */
export async function withUnsubscribeHeaders<T extends { leadId: string }>(
  deps: { config: Config; db: Database },
  baseUrl: string,
  sends: T[],
): Promise<(T & UnsubscribeLinks)[]> {
  return Promise.all(sends.map(async (s) => ({ ...s, ...(await unsubscribeLinks(deps, baseUrl, s.leadId)) })));
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
