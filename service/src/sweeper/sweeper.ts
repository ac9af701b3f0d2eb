import type { AppDeps } from '../app/deps';
import type { Send } from '../sends/send-schema';
import { upcomingWindows, type SendingRule } from '../timezone/sending-window';

/** A pending send whose recipient window passed (from the SQL `missed_sends`). */
export interface MissedSend {
  sendId: string;
  sender: string;
  timezone: string;
  country: string | null;
  state: string | null;
  rule: SendingRule;
  /** Look for windows from this instant (the retry time of a failed send, or now). */
  from: string;
}

export interface SweepResult {
  skipped: boolean;
  releasedClaims: number;
  needsReview: number;
  cancelled: number;
  rescheduled: number;
  unplaced: number;
  /** What retention removed (null when it did not run this time, and always with 0 days). */
  retention: { events: number; sends: number; inboundMessages: number; webhookDeliveries: number } | null;
}

type Deps = Pick<AppDeps, 'db' | 'logger' | 'config'>;

/** How many upcoming windows a missed send may be moved into (about six weeks of weekdays). */
const WINDOWS_TO_TRY = 30;

/**
 * Moves missed sends into the recipient's next window whose sender-day has quota
 * room. The SQL re-checks each send under its lock, so replicas may race here.
 */
export async function rescheduleMissed(deps: Deps, missed: MissedSend[], now: Date): Promise<Map<string, Send>> {
  const moved = new Map<string, Send>();
  for (const m of missed) {
    const recipient = { timezone: m.timezone, country: m.country ?? undefined, state: m.state ?? undefined };
    const from = new Date(Math.max(Date.parse(m.from), now.getTime()));
    const windows = upcomingWindows(recipient, m.rule, from, WINDOWS_TO_TRY).map((w) => ({
      start: w.start.toISOString(),
      end: w.end.toISOString(),
    }));
    const r = await deps.db.call<{ moved: boolean; reason?: string; send?: Send }>('reschedule_send', {
      p_send_id: m.sendId,
      p_windows: windows,
      p_now: now,
    });
    if (r.moved && r.send) moved.set(m.sendId, r.send);
    else if (r.reason === 'no_room') {
      deps.logger.warn({ sendId: m.sendId }, 'no quota room in the next sending windows; the sweeper will try again');
    }
  }
  return moved;
}

/** The default of COROFY_RETENTION_DAYS. */
export const DEFAULT_RETENTION_DAYS = 365;

/** Retention scans whole tables: the sweeper applies it once an hour, not every pass. */
const RETENTION_EVERY_MS = 3_600_000;

/**
 * One pass: expired claims back to new, expired sending leases to needs_review,
 * missed windows moved and, when `retentionDays` is given, texts and bodies
 * older than that many days removed.
 */
export async function runSweep(deps: Deps, now = deps.config.clock.now(), retentionDays: number | null = null): Promise<SweepResult> {
  const r = await deps.db.call<Omit<SweepResult, 'rescheduled' | 'unplaced'> & { missed: MissedSend[] }>('sweep', {
    p_now: now,
    p_retention_days: retentionDays,
  });
  const moved = r.missed.length > 0 ? await rescheduleMissed(deps, r.missed, now) : new Map();
  const { missed, ...counts } = r;
  return { ...counts, rescheduled: moved.size, unplaced: missed.length - moved.size };
}

/** Runs the sweep every `intervalMs` (0: never) until the returned stop() is awaited. */
export function startSweeper(deps: Deps, intervalMs: number, retentionDays = DEFAULT_RETENTION_DAYS): () => Promise<void> {
  if (intervalMs <= 0) return async () => undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let retentionDue = 0; // the first pass applies it
  const timer = setInterval(() => {
    if (stopped) return;
    const now = deps.config.clock.now();
    const retain = now.getTime() >= retentionDue ? retentionDays : null;
    running = runSweep(deps, now, retain).then(
      (r) => {
        const retained = r.retention ? r.retention.events + r.retention.sends + r.retention.inboundMessages + r.retention.webhookDeliveries : 0;
        if (r.retention) retentionDue = now.getTime() + RETENTION_EVERY_MS;
        if (r.releasedClaims + r.needsReview + r.cancelled + r.rescheduled + retained > 0) deps.logger.info(r, 'sweep');
      },
      (err) => deps.logger.warn({ err: (err as Error).message }, 'sweep failed; will try again'),
    );
  }, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
