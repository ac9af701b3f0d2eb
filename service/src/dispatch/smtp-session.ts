import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { MailboxServer } from '../mailboxes/mailbox-settings';
import { createTokenSource, OAuth2Error, type XOAuth2Provider } from './oauth2-token';

// One mailbox's SMTP connection, kept open and reused for message after message
// (the "pool": one connection per mailbox, driven by one replica at a time).
// It is nodemailer's SMTPConnection rather than its transport because the
// outcome of a send depends on *when* it failed: nodemailer's transport reads
// the whole message before the envelope, so it cannot say whether the body had
// reached the server; here the body is handed over only after DATA was accepted.

export type SmtpOutcome =
  /** 250: the server took the message; `response` is its reply line. */
  | { kind: 'sent'; response: string }
  /** 4xx, or the connection failed before the body was handed over: nothing was delivered, try later. */
  | { kind: 'retry'; error: string }
  /** 5xx with 5.1.x: the address does not exist (suppress it). */
  | { kind: 'bounce'; error: string }
  /** Another 5xx about this recipient or message: a dead letter. */
  | { kind: 'rejected'; error: string }
  /** The connection ended after the body was handed over, before the server answered: it may have been delivered. */
  | { kind: 'needs_review'; error: string }
  /** The mailbox itself failed (login, OAuth2, TLS, the sender refused): nothing was delivered; pause the mailbox. */
  | { kind: 'mailbox_failed'; code: string; error: string };

export interface SmtpError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
}

export interface SmtpSessionOptions {
  /** Connect, greeting and socket inactivity limit. */
  timeoutMs: number;
  /** Reconnect after this many messages on one connection (providers cap them). */
  maxMessagesPerConnection: number;
  /** The name said in EHLO. */
  clientName?: string;
}

/** "550 5.1.1 …" → "5.1.1". */
function enhancedStatus(response: string | undefined): string | undefined {
  return /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})/.exec(response ?? '')?.[1];
}

function describe(err: SmtpError): string {
  return (err.response ?? err.message).replace(/\s+/g, ' ').slice(0, 500);
}

export class SmtpSession {
  private conn: SMTPConnection | undefined;
  private connecting: Promise<SMTPConnection> | undefined;
  private sentOnConnection = 0;
  readonly tokens: (XOAuth2Provider & { refreshes: number }) | undefined;

  constructor(
    readonly server: MailboxServer,
    private readonly options: SmtpSessionOptions,
  ) {
    const auth = server.auth;
    this.tokens = auth.kind === 'oauth2' ? createTokenSource(auth, options.timeoutMs) : undefined;
  }

  /** Connects and logs in; throws the SmtpError or OAuth2Error as it came. */
  private open(): Promise<SMTPConnection> {
    if (this.conn && !this.conn.destroyed) return Promise.resolve(this.conn);
    this.connecting ??= new Promise<SMTPConnection>((resolve, reject) => {
      const s = this.server;
      const conn = new SMTPConnection({
        host: s.host,
        port: s.port,
        secure: s.tls === 'implicit',
        requireTLS: s.tls === 'starttls',
        ignoreTLS: s.tls === 'none',
        connectionTimeout: this.options.timeoutMs,
        greetingTimeout: this.options.timeoutMs,
        socketTimeout: this.options.timeoutMs,
        name: this.options.clientName,
        tls: { servername: s.host },
      });
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        conn.close();
        reject(err);
      };
      conn.once('error', fail);
      conn.connect((err) => {
        if (err) return fail(err);
        const auth = s.auth;
        const authData =
          auth.kind === 'oauth2'
            ? { user: auth.user, oauth2: this.tokens as never, method: 'XOAUTH2' }
            : auth.password === undefined
              ? undefined
              : { user: auth.user, pass: auth.password };
        if (!authData) {
          settled = true;
          this.conn = conn;
          this.sentOnConnection = 0;
          return resolve(conn);
        }
        conn.login(authData, (loginErr) => {
          if (loginErr) return fail(loginErr);
          settled = true;
          conn.removeListener('error', fail);
          // a later socket error surfaces through the send callback; keep the process alive
          conn.on('error', () => {});
          this.conn = conn;
          this.sentOnConnection = 0;
          resolve(conn);
        });
      });
    }).finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Connects and authenticates, then offers an envelope (never a message): what verify reports. */
  async check(from: string): Promise<void> {
    const conn = await this.open();
    await new Promise<void>((resolve, reject) => {
      const probe = new Readable({
        read() {
          // DATA was accepted: the envelope passed. End here, without a message.
          this.destroy(new Error('envelope accepted'));
        },
      });
      conn.send({ from, to: [from] }, probe, (err: SmtpError | null) => {
        if (err && err.code !== 'ESTREAM') return reject(err);
        resolve();
      });
    }).finally(() => this.close());
  }

  /** Sends one message and says what became of it. Never throws. */
  async send(envelope: { from: string; to: string[] }, raw: Buffer): Promise<SmtpOutcome> {
    const reused = this.conn !== undefined && !this.conn.destroyed;
    const first = await this.attempt(envelope, raw);
    // a kept connection the server closed while idle fails before anything was said: one fresh try
    if (reused && first.kind === 'retry' && first.stage === 'connection') return (await this.attempt(envelope, raw)).outcome;
    return first.outcome;
  }

  private async attempt(
    envelope: { from: string; to: string[] },
    raw: Buffer,
  ): Promise<{ kind: SmtpOutcome['kind']; stage?: 'connection'; outcome: SmtpOutcome }> {
    let conn: SMTPConnection;
    try {
      conn = await this.open();
    } catch (err) {
      const outcome = classifyOpenError(err as SmtpError);
      return { kind: outcome.kind, outcome };
    }
    let bodyHandedOver = false;
    const message = new Readable({
      read() {
        bodyHandedOver = true;
        this.push(raw);
        this.push(null);
      },
    });
    const outcome = await new Promise<SmtpOutcome & { stage?: 'connection' }>((resolve) => {
      conn.send(envelope, message, (err: SmtpError | null, info) => {
        if (!err) return resolve({ kind: 'sent', response: String(info?.response ?? '250') });
        resolve(classifySendError(err, bodyHandedOver));
      });
    });
    if (outcome.kind === 'sent') {
      this.sentOnConnection += 1;
      if (this.sentOnConnection >= this.options.maxMessagesPerConnection) this.close();
    } else {
      // after any failure the session state is unknown: the next message starts on a fresh connection
      this.close();
    }
    return { kind: outcome.kind, stage: outcome.stage, outcome };
  }

  close(): void {
    const conn = this.conn;
    this.conn = undefined;
    if (conn && !conn.destroyed) {
      try {
        conn.quit();
      } catch {
        conn.close();
      }
      setTimeout(() => conn.close(), 1000).unref();
    }
  }
}

/** Failing to connect or log in: nothing was sent. */
function classifyOpenError(err: SmtpError): SmtpOutcome {
  if (err instanceof OAuth2Error) {
    return err.reason === 'oauth2_revoked'
      ? { kind: 'mailbox_failed', code: 'oauth2_revoked', error: err.message }
      : { kind: 'retry', error: err.message };
  }
  const inner = (err as { cause?: unknown }).cause;
  if (inner instanceof OAuth2Error) return classifyOpenError(inner as SmtpError);
  if (err.code === 'EAUTH') {
    if (err.responseCode !== undefined && err.responseCode < 500) return { kind: 'retry', error: describe(err) };
    return { kind: 'mailbox_failed', code: 'smtp_auth_failed', error: `The SMTP server refused the login: ${describe(err)}` };
  }
  if (err.code === 'ETLS' || /certificate|tls|ssl/i.test(err.message)) {
    return { kind: 'mailbox_failed', code: 'smtp_tls_failed', error: `TLS with the SMTP server failed: ${describe(err)}` };
  }
  return { kind: 'retry', error: describe(err) };
}

function classifySendError(err: SmtpError, bodyHandedOver: boolean): SmtpOutcome & { stage?: 'connection' } {
  const code = err.responseCode;
  if (code === undefined) {
    // no answer from the server: after the body it may have taken the message
    if (bodyHandedOver) {
      return { kind: 'needs_review', error: `The connection ended after the message was sent, before the server answered (${describe(err)}).` };
    }
    return { kind: 'retry', error: describe(err), stage: 'connection' };
  }
  if (code >= 400 && code < 500) return { kind: 'retry', error: describe(err) };
  if (err.command === 'MAIL FROM') {
    return { kind: 'mailbox_failed', code: 'smtp_sender_refused', error: `The SMTP server refused the sender address: ${describe(err)}` };
  }
  if (enhancedStatus(err.response)?.startsWith('5.1.')) return { kind: 'bounce', error: describe(err) };
  return { kind: 'rejected', error: describe(err) };
}
