import { ImapFlow } from 'imapflow';
import { problem, ProblemError } from '../app/problems';
import { OAuth2Error, createTokenSource } from '../dispatch/oauth2-token';
import { SmtpSession, type SmtpError } from '../dispatch/smtp-session';
import type { MailboxServer, MailboxSettings } from './mailbox-settings';

// POST /v1/senders/:id/verify: connect to the mailbox as the dispatcher (and the
// IMAP watcher) would, and say precisely what does not work. Nothing is sent:
// the SMTP check ends after the server accepted the envelope.

export interface VerifyResult {
  smtp: { ok: true; host: string; port: number; tls: string; auth: string } | null;
  imap: { ok: true; host: string; port: number; tls: string; auth: string } | null;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ESOCKET', 'ECONNECTION']);

/** The problem that explains a failed connection to `server` (`what`: "SMTP" or "IMAP"). */
export function connectionProblem(what: 'SMTP' | 'IMAP', server: MailboxServer, err: unknown): ProblemError {
  const e = err as SmtpError & { errno?: string; authenticationFailed?: boolean; responseText?: string; cause?: unknown };
  const where = `${server.host}:${server.port}`;
  const inner = e?.cause instanceof OAuth2Error ? e.cause : err instanceof OAuth2Error ? err : undefined;
  if (inner) {
    return inner.reason === 'oauth2_revoked'
      ? problem(422, 'oauth2_revoked', inner.message)
      : problem(502, 'oauth2_unavailable', inner.message);
  }
  const text = `${e?.message ?? ''} ${e?.response ?? ''} ${e?.responseText ?? ''}`.replace(/\s+/g, ' ').trim();
  const code = e?.code ?? e?.errno ?? '';
  if (code === 'EDNS' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|getaddrinfo/.test(text)) {
    return problem(422, `${what.toLowerCase()}_dns_failed`, `${server.host} does not resolve (DNS): check the ${what} host name.`);
  }
  if (code === 'ETLS' || /certificate|tls|ssl|wrong version number/i.test(text)) {
    return problem(
      422,
      `${what.toLowerCase()}_tls_failed`,
      `TLS with ${where} failed (${text.slice(0, 200)}): check the TLS mode (implicit on 465/993, starttls on 587/143) and the host's certificate.`,
    );
  }
  if (code === 'EAUTH' || e?.authenticationFailed) {
    return problem(
      422,
      `${what.toLowerCase()}_auth_failed`,
      `${where} refused the login of ${server.auth.user} (${text.slice(0, 200)}): check the user and password ` +
        '(Google Workspace and Microsoft 365 need an app password or OAuth2).',
    );
  }
  if (what === 'SMTP' && e?.command === 'MAIL FROM') {
    return problem(422, 'smtp_sender_refused', `${where} refused the sender address (${text.slice(0, 200)}): it must be an address this login may send as.`);
  }
  if (what === 'SMTP' && e?.command === 'RCPT TO') {
    return problem(422, 'smtp_relay_refused', `${where} refused to relay (${text.slice(0, 200)}): log in, or use the provider's submission port.`);
  }
  if (NETWORK_CODES.has(code) || /timeout|timed out|ECONNREFUSED/i.test(text)) {
    return problem(502, `${what.toLowerCase()}_connect_failed`, `Could not connect to ${where} (${text.slice(0, 200)}): check the host, the port and the firewall.`);
  }
  return problem(502, `${what.toLowerCase()}_failed`, `${what} with ${where} failed: ${text.slice(0, 300)}`);
}

function summary(server: MailboxServer) {
  return { ok: true as const, host: server.host, port: server.port, tls: server.tls, auth: server.auth.kind };
}

/** What one server's check came to: null when it passed, else the problem. */
export type ServerChecked = (server: 'smtp' | 'imap', failure: ProblemError | null) => Promise<void>;

/**
 * Checks the SMTP server, then the IMAP server; the first failure is thrown.
 * `checked` hears each server's outcome (the sender's health keeps the last one).
 */
export async function verifyMailbox(settings: MailboxSettings, timeoutMs: number, checked: ServerChecked): Promise<VerifyResult> {
  if (!settings.smtp && !settings.imap) {
    throw problem(422, 'mailbox_incomplete', 'The sender has no mailbox settings: set "smtp" (and "imap") with PUT /v1/senders/:id.');
  }
  const result: VerifyResult = { smtp: null, imap: null };
  if (settings.smtp) {
    const smtp = settings.smtp;
    const fromEmail = settings.fromEmail;
    await reported('smtp', checked, async () => {
      if (!fromEmail) {
        throw problem(422, 'mailbox_incomplete', 'Set the sender\'s "fromEmail": the SMTP check offers it as the envelope sender.');
      }
      const session = new SmtpSession(smtp, { timeoutMs, maxMessagesPerConnection: 1 });
      try {
        await session.check(fromEmail);
      } catch (err) {
        throw connectionProblem('SMTP', smtp, err);
      } finally {
        session.close();
      }
    });
    result.smtp = summary(smtp);
  }
  if (settings.imap) {
    const imap = settings.imap;
    await reported('imap', checked, () => verifyImap(imap, timeoutMs));
    result.imap = summary(imap);
  }
  return result;
}

async function reported(server: 'smtp' | 'imap', checked: ServerChecked, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    if (err instanceof ProblemError) await checked(server, err);
    throw err;
  }
  await checked(server, null);
}

async function verifyImap(server: MailboxServer, timeoutMs: number): Promise<void> {
  const auth = server.auth;
  let credentials: { user: string; pass?: string; accessToken?: string };
  try {
    credentials =
      auth.kind === 'oauth2'
        ? { user: auth.user, accessToken: await new Promise<string>((resolve, reject) =>
            createTokenSource(auth, timeoutMs).getToken(false, (err, token) => (err ? reject(err) : resolve(token!))),
          ) }
        : { user: auth.user, pass: auth.password ?? '' };
  } catch (err) {
    throw connectionProblem('IMAP', server, err);
  }
  const client = new ImapFlow({
    host: server.host,
    port: server.port,
    secure: server.tls === 'implicit',
    doSTARTTLS: server.tls === 'starttls' ? true : server.tls === 'none' ? false : undefined,
    auth: credentials,
    logger: false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.logout();
  } catch (err) {
    client.close();
    throw connectionProblem('IMAP', server, err);
  }
}
