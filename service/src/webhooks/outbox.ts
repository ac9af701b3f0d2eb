import type { AppDeps } from '../app/deps';
import { signWebhook } from './signing';

interface DueDelivery {
  id: string;
  messageId: string;
  attempt: number;
  url: string;
  secret: string;
  payload: unknown;
}

type Deps = Pick<AppDeps, 'db' | 'logger' | 'config'>;

const BATCH = 50;

/**
 * One pass over the outbox: lease the due deliveries (at most one per lead and
 * webhook, oldest first), POST each, record the outcome. Returns how many were tried.
 * At least once: a replica that dies after the POST and before the report
 * leaves the lease to run out, and the delivery is sent again (same webhook-id).
 */
export async function deliverDueWebhooks(deps: Deps, now = new Date()): Promise<number> {
  const { timeoutMs, maxAttempts, backoffSeconds } = deps.config.webhooks;
  const leaseSeconds = Math.ceil(timeoutMs / 1000) + 30;
  const { deliveries } = await deps.db.call<{ deliveries: DueDelivery[] }>('claim_webhook_deliveries', {
    p_limit: BATCH,
    p_lease_seconds: leaseSeconds,
    p_now: now,
  });
  await Promise.all(
    deliveries.map(async (d) => {
      const outcome = await post(d, timeoutMs);
      if (!outcome.ok) deps.logger.warn({ deliveryId: d.id, attempt: d.attempt, status: outcome.status, error: outcome.error }, 'webhook delivery failed');
      await deps.db.call('report_webhook_delivery', {
        p_id: d.id,
        p_attempt: d.attempt,
        p_ok: outcome.ok,
        p_status: outcome.status,
        p_error: outcome.error,
        p_max_attempts: maxAttempts,
        p_backoff_seconds: backoffSeconds,
        p_now: new Date(),
      });
    }),
  );
  return deliveries.length;
}

async function post(d: DueDelivery, timeoutMs: number): Promise<{ ok: boolean; status: number | null; error: string | null }> {
  const body = JSON.stringify(d.payload);
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const res = await fetch(d.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Corofy-Webhooks/1',
        'webhook-id': d.messageId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(d.secret, d.messageId, timestamp, body),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok
      ? { ok: true, status: res.status, error: null }
      : { ok: false, status: res.status, error: `the receiver answered ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { ok: false, status: null, error: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message) };
  }
}

/**
 * Runs the outbox every intervalMs and whenever `wake()` is called (after an
 * event was recorded), one pass at a time. With intervalMs 0 only `wake()` runs it.
 */
export function startWebhookOutbox(deps: Deps): { wake: () => void; stop: () => Promise<void> } {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        do {
          again = false;
          // a full batch means more may be due right away
          while (!stopped && (await deliverDueWebhooks(deps)) === BATCH);
        } while (again && !stopped);
      } catch (err) {
        deps.logger.error({ err }, 'webhook outbox pass failed; trying again on the next tick');
      } finally {
        running = undefined;
      }
    })();
  };
  const interval = deps.config.webhooks.intervalMs;
  const timer = interval > 0 ? setInterval(run, interval) : undefined;
  timer?.unref();
  return {
    wake: run,
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
