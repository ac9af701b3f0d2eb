// Test support (not product): a real SMTP server (smtp-server) that answers as
// the recipient's or the mailbox provider's server would, chosen by the
// recipient's local part, and records every message it received (raw, as bytes
// on the wire), and a local OAuth2 token endpoint.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface Received {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
  /** The server got the whole body but never answered (drop / hang). */
  unanswered: boolean;
  parsed: ParsedMail;
}

export interface SmtpSink {
  port: number;
  received: Received[];
  /** Called at each step of each SMTP transaction (for kill -9 tests). */
  onStep?: (step: 'connect' | 'auth' | 'mail' | 'rcpt' | 'body', session: SMTPServerSession) => void | Promise<void>;
  /** Answers every later transaction with this, whatever the recipient (null: by recipient). */
  mode: string | null;
  authAttempts: { method: string; user: string }[];
  close(): Promise<void>;
}

const smtpError = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

/**
 * Recipients' local parts choose the answer: temp… → 451 at RCPT, busy… → 421 at RCPT,
 * gone… → 550 5.1.1 at RCPT, policy… → 554 5.7.1 after the body, drop… → the connection
 * is closed after the body (no answer), hang… → no answer after the body. Anything else: 250.
 */
export async function startSmtpSink(auth: { users?: Record<string, string>; tokens?: Set<string> } = {}): Promise<SmtpSink> {
  const sink: SmtpSink = { port: 0, received: [], mode: null, authAttempts: [], close: async () => undefined };
  const connections = () => (server as unknown as { connections: Set<{ session: SMTPServerSession; _socket: { destroy(): void } }> }).connections;
  const behaviour = (session: SMTPServerSession) => sink.mode ?? (session.envelope.rcptTo[0]?.address ?? '').split('@')[0]!;
  const server: SMTPServer = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
    authOptional: !auth.users && !auth.tokens,
    logger: false,
    async onConnect(session, cb) {
      await sink.onStep?.('connect', session);
      cb();
    },
    async onAuth(a, session, cb) {
      sink.authAttempts.push({ method: a.method, user: a.username ?? '' });
      await sink.onStep?.('auth', session);
      if (a.method === 'XOAUTH2') {
        if (auth.tokens?.has(a.accessToken ?? '')) return cb(null, { user: a.username });
        return cb(null, { data: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' } });
      }
      if (auth.users && auth.users[a.username ?? ''] === a.password) return cb(null, { user: a.username });
      cb(smtpError(535, '5.7.8 Username and Password not accepted'));
    },
    async onMailFrom(_addr, session, cb) {
      await sink.onStep?.('mail', session);
      cb();
    },
    async onRcptTo(addr, session, cb) {
      await sink.onStep?.('rcpt', session);
      const kind = sink.mode ?? addr.address.split('@')[0]!;
      if (kind.startsWith('temp')) return cb(smtpError(451, '4.3.0 Temporary failure, try again later'));
      if (kind.startsWith('busy')) return cb(smtpError(421, '4.7.0 Too many connections, try again later'));
      if (kind.startsWith('gone')) return cb(smtpError(550, '5.1.1 The email account that you tried to reach does not exist'));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const kind = behaviour(session);
        const unanswered = kind.startsWith('drop') || kind.startsWith('hang');
        sink.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw,
          unanswered,
          parsed: await simpleParser(raw),
        });
        await sink.onStep?.('body', session);
        if (kind.startsWith('drop')) {
          for (const c of connections()) if (c.session === session) c._socket.destroy();
          return;
        }
        if (kind.startsWith('hang')) return;
        if (kind.startsWith('policy')) return cb(smtpError(554, '5.7.1 Message rejected by policy'));
        cb(null, `2.0.0 OK queued as Q${sink.received.length}`);
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.port = (server.server.address() as AddressInfo).port;
  sink.close = async () => {
    for (const c of connections()) c._socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return sink;
}

export interface TokenEndpoint {
  url: string;
  /** Refresh tokens → the access tokens handed out in turn (the last one repeats). */
  grants: Map<string, string[]>;
  requests: { refreshToken: string; clientId: string; clientSecret: string; scope?: string }[];
  close(): Promise<void>;
}

/** An OAuth2 token endpoint (RFC 6749 refresh_token grant); unknown refresh tokens get invalid_grant. */
export async function startTokenEndpoint(): Promise<TokenEndpoint> {
  const ep: TokenEndpoint = { url: '', grants: new Map(), requests: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const refreshToken = form.get('refresh_token') ?? '';
      ep.requests.push({
        refreshToken,
        clientId: form.get('client_id') ?? '',
        clientSecret: form.get('client_secret') ?? '',
        ...(form.has('scope') ? { scope: form.get('scope')! } : {}),
      });
      const tokens = ep.grants.get(refreshToken);
      res.setHeader('content-type', 'application/json');
      if (form.get('grant_type') !== 'refresh_token' || !tokens) {
        res.statusCode = 400;
        return res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }));
      }
      const token = tokens.length > 1 ? tokens.shift()! : tokens[0]!;
      res.end(JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ep.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  ep.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return ep;
}
