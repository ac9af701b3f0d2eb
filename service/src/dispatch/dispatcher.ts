import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { AppDeps } from '../app/deps';
import { loadMailboxSettings, type MailboxSettings } from '../mailboxes/mailbox-settings';
import type { Send } from '../sends/send-schema';
import { unsubscribeLinks } from '../unsubscribe/footer';
import { buildMessage, type BuiltMessage } from './message';
import { SmtpSession, type SmtpOutcome } from './smtp-session';

// The dispatcher sends the due sends of every mailbox with delivery "corofy".
// Each replica runs one; a mailbox is driven by the replica holding its lease
// (take_mailbox_leases, renewed every tick, taken over when its holder stops
// renewing). Invariant 1 on this path: a send is claimed (leased, `sending`)
// before its SMTP transaction and settled by what the server answered; when no
// answer came after the body, it goes to needs_review; a crash leaves it
// `sending` and the sweeper moves it to needs_review. Nothing is sent twice.

type Deps = Pick<AppDeps, 'config' | 'db' | 'logger' | 'secretBox'>;

/** Outcomes being written while the next message goes out (bounded: each holds a database connection). */
const MAX_RECORDS_IN_FLIGHT = 4;

export interface DispatchedSend extends Send {
  /** Message-IDs of the lead's earlier steps, oldest first. */
  thread: string[];
}

export interface Dispatcher {
  /** Look for due sends now instead of at the next tick (after the gate handed some over). */
  nudge(): void;
  /** Finishes the SMTP transactions in flight, records them, gives the mailboxes up. */
  stop(): Promise<void>;
  readonly holder: string;
}

export function startDispatcher(deps: Deps, baseUrl: string): Dispatcher {
  const { config, db, logger } = deps;
  const holder = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const drivers = new Map<string, MailboxDriver>();
  let stopped = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const tick = async () => {
    let held: string[];
    try {
      held = await db.call<string[]>('take_mailbox_leases', {
        p_role: 'smtp',
        p_holder: holder,
        p_seconds: config.dispatch.mailboxLeaseSeconds,
        p_now: config.clock.now(),
      });
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'dispatcher: could not renew mailbox leases; will try again');
      return;
    }
    for (const [id, d] of drivers) {
      if (!held.includes(id)) {
        drivers.delete(id);
        d.retire();
      }
    }
    for (const id of held) {
      let d = drivers.get(id);
      if (!d) drivers.set(id, (d = new MailboxDriver(deps, id, holder, baseUrl)));
      d.kick();
    }
  };

  const loop = (async () => {
    while (!stopped) {
      await tick();
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, config.dispatch.intervalMs);
      });
      wake = undefined;
    }
  })();

  return {
    holder,
    nudge() {
      wake?.();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
      await Promise.all([...drivers.values()].map((d) => d.retire()));
      drivers.clear();
      await db.call('release_mailbox_leases', { p_role: 'smtp', p_holder: holder }).catch(() => undefined);
    },
  };
}

/** One mailbox: its SMTP session, its rate cap, and the loop that drains its due sends. */
class MailboxDriver {
  private session: SmtpSession | undefined;
  private sessionKey = '';
  private running: Promise<void> | undefined;
  private again = false;
  private retired = false;
  private nextSlot = 0;

  constructor(
    private readonly deps: Deps,
    readonly senderId: string,
    private readonly holder: string,
    private readonly baseUrl: string,
  ) {}

  kick(): void {
    if (this.retired) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err) => this.deps.logger.warn({ sender: this.senderId, err: (err as Error).message }, 'dispatcher: mailbox cycle failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.retired) {
          this.again = false;
          this.kick();
        }
      });
  }

  async retire(): Promise<void> {
    this.retired = true;
    await this.running;
    this.session?.close();
  }

  private async drain(): Promise<void> {
    const { config, db } = this.deps;
    while (!this.retired) {
      const settings = await loadMailboxSettings(this.deps, this.senderId);
      if (settings.delivery !== 'corofy' || !settings.smtp || settings.paused || !settings.fromEmail) return;
      const session = this.sessionFor(settings);
      // a batch is what the rate cap lets out in about two seconds: a stop waits for little
      const sends = await db.call<DispatchedSend[]>('dispatch_claim', {
        p_sender: this.senderId,
        p_holder: this.holder,
        p_limit: Math.max(1, config.dispatch.smtpRatePerSecond * 2),
        p_lease_seconds: config.sendLeaseSeconds,
        p_now: this.deps.config.clock.now(),
      });
      if (sends.length === 0) return;
      // Outcomes are recorded while the next message is on the wire (a few at a
      // time): the SMTP connection, not the database round trip, sets the pace.
      // A crash with a record in flight leaves that send `sending`: needs_review.
      const recording = new Set<Promise<void>>();
      // the next message is built while this one is on the wire
      let built = this.build(settings, sends[0]!);
      for (let i = 0; i < sends.length; i++) {
        const send = sends[i]!;
        const message = await built;
        if (i + 1 < sends.length) built = this.build(settings, sends[i + 1]!);
        await this.waitForSlot();
        const outcome = 'error' in message ? message : await session.send(message.envelope, message.raw);
        if (outcome.kind === 'mailbox_failed') {
          await Promise.all(recording);
          await this.record(send, outcome);
          await this.pause(outcome);
          // claimed but never tried: back to the queue, nothing was sent
          for (const rest of sends.slice(i + 1)) {
            await this.record(rest, { kind: 'retry', error: `not tried: the mailbox was paused (${outcome.code})` });
          }
          return;
        }
        const r = this.record(send, outcome).finally(() => recording.delete(r));
        recording.add(r);
        if (recording.size >= MAX_RECORDS_IN_FLIGHT) await Promise.race(recording);
      }
      await Promise.all(recording);
    }
  }

  private sessionFor(settings: MailboxSettings): SmtpSession {
    const key = JSON.stringify(settings.smtp);
    if (!this.session || key !== this.sessionKey) {
      this.session?.close();
      this.session = new SmtpSession(settings.smtp!, {
        timeoutMs: this.deps.config.dispatch.smtpTimeoutMs,
        maxMessagesPerConnection: this.deps.config.dispatch.maxMessagesPerConnection,
        clientName: settings.fromEmail!.split('@')[1],
      });
      this.sessionKey = key;
    }
    return this.session;
  }

  private async waitForSlot(): Promise<void> {
    const spacing = 1000 / this.deps.config.dispatch.smtpRatePerSecond;
    const now = Date.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + spacing;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  }

  /** The message of a send as bytes, or the retry outcome when it cannot be built (nothing was sent). */
  private async build(settings: MailboxSettings, send: DispatchedSend): Promise<BuiltMessage | Extract<SmtpOutcome, { kind: 'retry' }>> {
    try {
      const links = await unsubscribeLinks(this.deps, this.baseUrl, send.leadId);
      return await buildMessage({
        messageId: send.messageId!,
        from: { name: settings.fromName, email: settings.fromEmail! },
        to: send.to,
        subject: send.subject,
        text: send.text,
        html: send.html,
        date: this.deps.config.clock.now(),
        unsubscribeUrl: links.unsubscribeUrl,
        unsubscribeEmail: settings.unsubscribeEmail,
        thread: send.thread,
      });
    } catch (err) {
      return { kind: 'retry', error: `could not build the message: ${(err as Error).message}` };
    }
  }

  private async record(send: DispatchedSend, outcome: SmtpOutcome): Promise<void> {
    const { config, db, logger } = this.deps;
    // a mailbox failure sent nothing: the send waits for the mailbox like a retry
    const settled = outcome.kind === 'mailbox_failed' ? { kind: 'retry', error: outcome.error } : outcome;
    try {
      await db.call('dispatch_record', {
        p_send_id: send.sendId,
        p_attempt: send.attempts,
        p_outcome: settled,
        p_max_attempts: config.sendMaxAttempts,
        p_backoff_seconds: config.retryBackoffSeconds,
        p_now: this.deps.config.clock.now(),
      });
    } catch (err) {
      // the send stays `sending`; when its lease runs out the sweeper makes it needs_review
      logger.error({ sender: this.senderId, sendId: send.sendId, outcome: outcome.kind, err: (err as Error).message }, 'dispatcher: could not record an outcome');
      return;
    }
    if (outcome.kind !== 'sent') {
      logger.info({ sender: this.senderId, sendId: send.sendId, outcome: outcome.kind, error: 'error' in outcome ? outcome.error : undefined }, 'dispatch');
    }
  }

  private async pause(outcome: Extract<SmtpOutcome, { kind: 'mailbox_failed' }>): Promise<void> {
    this.deps.logger.warn({ sender: this.senderId, code: outcome.code, reason: outcome.error }, 'dispatcher: mailbox paused');
    await this.deps.db.call('pause_mailbox', { p_sender: this.senderId, p_code: outcome.code, p_reason: outcome.error, p_now: this.deps.config.clock.now() });
    this.session?.close();
  }
}
