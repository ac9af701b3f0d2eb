import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import type { AppDeps } from '../app/deps';
import { DatabaseError } from '../db/database';
import { loadMailboxSettings, type MailboxServer } from '../mailboxes/mailbox-settings';
import { classifyMessage } from './classify';

// The IMAP watcher: one replica at a time reads a sender's mailbox (a lease in
// Postgres), INBOX and the server's spam folder (\Junk), from the last UID it
// recorded, with IDLE where the server offers it (imapflow falls back to NOOP
// polling). Each message is recorded and the folder's position moved in one
// transaction (record_mailbox_message), so a restart neither misses nor
// doubles a message; a changed UIDVALIDITY reads the folder again and the
// Message-IDs keep it from counting twice.

type Deps = Pick<AppDeps, 'db' | 'logger' | 'config' | 'secretBox' | 'wakeWebhooks'>;

export interface ImapEndpoint {
  host: string;
  port: number;
  tls: 'implicit' | 'starttls' | 'none';
  user: string;
  password?: string;
  accessToken?: string;
}

const MAX_BACKOFF_MS = 60_000;

/** The sender's IMAP server and credentials (an OAuth2 refresh token is exchanged for an access token). */
export async function imapEndpointOf(deps: Deps, senderId: string): Promise<ImapEndpoint | null> {
  const { imap } = await loadMailboxSettings(deps, senderId);
  if (!imap) return null;
  return { host: imap.host, port: imap.port, tls: imap.tls, user: imap.auth.user, ...(await credentialsOf(imap)) };
}

async function credentialsOf(imap: MailboxServer): Promise<{ password?: string; accessToken?: string }> {
  if (imap.auth.kind === 'password') return { password: imap.auth.password };
  const { clientId, clientSecret, refreshToken, tokenUrl } = imap.auth;
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: clientId,
      ...(clientSecret ? { client_secret: clientSecret } : {}),
      refresh_token: refreshToken ?? '',
    }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string };
  if (!res.ok || !body.access_token) {
    throw new Error(`the OAuth2 token endpoint refused the refresh token (${res.status} ${body.error ?? ''})`.trim());
  }
  return { accessToken: body.access_token };
}

export interface WatcherOptions {
  /** Where to connect (tests give it directly; the service reads the sender's settings). */
  endpoint: () => Promise<ImapEndpoint | null>;
  pollMs: number;
}

/** Watches one mailbox until stopped; reconnects with backoff. */
export class MailboxWatcher {
  private stopped = false;
  private client: ImapFlow | undefined;
  private wake: (() => void) | undefined;
  private dirty = true;
  readonly done: Promise<void>;

  constructor(
    private readonly deps: Deps,
    readonly senderId: string,
    private readonly holder: string,
    private readonly options: WatcherOptions,
  ) {
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.client?.close();
    await this.done;
  }

  private async run(): Promise<void> {
    let backoff = 1000;
    while (!this.stopped) {
      try {
        const endpoint = await this.options.endpoint();
        if (!endpoint) throw new Error('the sender has no IMAP settings');
        await this.session(endpoint, () => (backoff = 1000));
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof DatabaseError && err.message === 'mailbox_lease_lost') {
          this.deps.logger.warn({ sender: this.senderId }, 'another replica took over the mailbox');
          break;
        }
        const message = (err as Error).message ?? String(err);
        this.deps.logger.warn({ sender: this.senderId, error: message, retryInMs: backoff }, 'IMAP watcher disconnected');
        await this.health(false, message.slice(0, 500));
      } finally {
        this.client?.close();
        this.client = undefined;
      }
      if (this.stopped) break;
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    await this.health(false, null);
  }

  private async session(endpoint: ImapEndpoint, connected: () => void): Promise<void> {
    const client = new ImapFlow({
      host: endpoint.host,
      port: endpoint.port,
      secure: endpoint.tls === 'implicit',
      doSTARTTLS: endpoint.tls === 'starttls' ? true : endpoint.tls === 'none' ? false : undefined,
      auth: endpoint.accessToken
        ? { user: endpoint.user, accessToken: endpoint.accessToken }
        : { user: endpoint.user, pass: endpoint.password ?? '' },
      logger: false,
      emitLogs: false,
      // IDLE is renewed before servers drop it (RFC 2177: 29 minutes at most)
      maxIdleTime: 5 * 60_000,
    });
    this.client = client;
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', (err: Error) => this.deps.logger.warn({ sender: this.senderId, error: err.message }, 'IMAP error'));
    client.on('exists', () => {
      this.dirty = true;
      this.wake?.();
    });
    await client.connect();
    connected();
    await this.health(true, null);
    const junk = (await client.list()).find((f) => f.specialUse === '\\Junk')?.path;
    const folders = ['INBOX', ...(junk ? [junk] : [])];

    while (!this.stopped && client.usable) {
      this.dirty = false;
      for (const folder of folders) await this.syncFolder(client, folder);
      // INBOX stays selected and idle; new mail arrives as an EXISTS (wake), the spam folder by polling
      const lock = await client.getMailboxLock('INBOX');
      lock.release();
      if (!this.dirty) {
        // IDLE (NOOP polling where the server lacks it) until news, the poll interval or a disconnect
        const idle = client.idle().catch(() => undefined);
        await Promise.race([this.sleep(this.options.pollMs), closed, idle]);
      }
    }
    if (!this.stopped && !client.usable) throw new Error('the IMAP connection closed');
  }

  private async syncFolder(client: ImapFlow, folder: string): Promise<void> {
    const lock = await client.getMailboxLock(folder);
    try {
      // a selected folder's message count changes only with the server's news: ask for it
      await client.noop();
      const mailbox = client.mailbox;
      if (!mailbox) return;
      const uidValidity = mailbox.uidValidity.toString();
      const position = await this.deps.db.call<{ lastUid: number; reset: boolean }>('open_mailbox_folder', {
        p_sender: this.senderId,
        p_folder: folder,
        p_uid_validity: uidValidity,
      });
      if (position.reset) this.deps.logger.warn({ sender: this.senderId, folder }, 'UIDVALIDITY changed: reading the folder again');
      if (mailbox.exists === 0) return;
      let recorded = 0;
      for await (const msg of client.fetch(`${position.lastUid + 1}:*`, { uid: true, source: true }, { uid: true })) {
        // "n:*" always answers with the last message, even below n
        if (this.stopped || msg.uid <= position.lastUid) continue;
        const classified = msg.source ? await classifyMessage(msg.source) : null;
        await this.deps.db.call('record_mailbox_message', {
          p_message: classified,
          p_sender: this.senderId,
          p_holder: this.holder,
          p_folder: folder,
          p_uid_validity: uidValidity,
          p_uid: msg.uid,
        });
        recorded += 1;
      }
      if (recorded > 0) this.deps.wakeWebhooks?.();
    } finally {
      lock.release();
    }
  }

  private async health(connected: boolean, error: string | null): Promise<void> {
    await this.deps.db
      .call('report_mailbox_health', { p_sender: this.senderId, p_holder: this.holder, p_connected: connected, p_error: error })
      .catch(() => undefined);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/**
 * Every scanIntervalMs: take the lease of each mailbox with IMAP settings that
 * nobody (alive) watches, renew the leases this replica holds, and stop a
 * watcher whose lease another replica took.
 */
export function startMailboxWatchers(
  deps: Deps,
  endpointFor: (senderId: string) => Promise<ImapEndpoint | null> = (id) => imapEndpointOf(deps, id),
): { stop: () => Promise<void>; holder: string } {
  const { scanIntervalMs, leaseSeconds, pollSeconds } = deps.config.imap;
  const holder = `replica-${randomBytes(6).toString('hex')}`;
  const watchers = new Map<string, MailboxWatcher>();
  let scanning: Promise<void> | undefined;
  let stopped = false;

  const scan = async () => {
    const senders = await deps.db.call<string[]>('imap_senders');
    for (const senderId of senders) {
      if (stopped) return;
      const held = await deps.db.call<boolean>('take_mailbox_lease', { p_sender: senderId, p_holder: holder, p_seconds: leaseSeconds });
      const running = watchers.get(senderId);
      if (held && !running) {
        watchers.set(senderId, new MailboxWatcher(deps, senderId, holder, { endpoint: () => endpointFor(senderId), pollMs: pollSeconds * 1000 }));
      } else if (!held && running) {
        watchers.delete(senderId);
        await running.stop();
      }
    }
    for (const [senderId, w] of watchers) {
      if (!senders.includes(senderId)) {
        watchers.delete(senderId);
        await w.stop();
        await deps.db.call('release_mailbox_lease', { p_sender: senderId, p_holder: holder });
      }
    }
  };
  const tick = () => {
    if (scanning || stopped) return;
    scanning = scan()
      .catch((err) => deps.logger.error({ err }, 'mailbox watcher scan failed; trying again on the next tick'))
      .finally(() => (scanning = undefined));
  };
  const timer = scanIntervalMs > 0 ? setInterval(tick, scanIntervalMs) : undefined;
  timer?.unref();
  if (scanIntervalMs > 0) tick();
  return {
    holder,
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await scanning;
      await Promise.all(
        [...watchers].map(async ([senderId, w]) => {
          await w.stop();
          await deps.db.call('release_mailbox_lease', { p_sender: senderId, p_holder: holder }).catch(() => undefined);
        }),
      );
    },
  };
}
