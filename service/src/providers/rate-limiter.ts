// The OpenAI limiter: one per process, shared by every request. It paces
// request starts evenly (a GCRA: each request and each estimated token has an
// emission interval), so the process never exceeds the configured RPM/TPM in
// any window and still runs at the full rate. The provider's own view wins:
// the x-ratelimit-* headers lower the limits, a depleted budget or a 429 pauses
// every caller until the reset.

export interface RateLimits {
  rpm: number;
  tpm: number;
}

export interface RateLimitHeaders {
  limitRequests?: number;
  limitTokens?: number;
  remainingRequests?: number;
  remainingTokens?: number;
  resetRequestsMs?: number;
  resetTokensMs?: number;
}

const PACE = 0.98;

export class RateLimiter {
  private rpm: number;
  private tpm: number;
  /** Earliest time the next request may start (request budget / token budget). */
  private nextRequestAt = 0;
  private nextTokensAt = 0;
  /** Nobody starts before this (a 429 or an empty server-side budget). */
  private pausedUntil = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly configured: RateLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.rpm = configured.rpm;
    this.tpm = configured.tpm;
  }

  get limits(): RateLimits {
    return { rpm: this.rpm, tpm: this.tpm };
  }

  /** Waits for this request's turn; `tokens` is its estimated size (prompt + max output). */
  acquire(tokens: number): Promise<void> {
    const turn = this.queue.then(() => this.waitForSlot(tokens));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async waitForSlot(tokens: number): Promise<void> {
    for (;;) {
      const now = this.now();
      const start = Math.max(now, this.nextRequestAt, this.nextTokensAt, this.pausedUntil);
      if (start <= now) break;
      await sleep(start - now);
    }
    const now = this.now();
    // A waiter woken late may start one interval early next time (so timer lag
    // is not lost forever), never more: at most two requests close together.
    this.nextRequestAt = Math.max(this.nextRequestAt, now - this.requestInterval()) + this.requestInterval();
    const tokenCost = Math.min(tokens, this.tpm) * this.tokenInterval();
    this.nextTokensAt = Math.max(this.nextTokensAt, now) + tokenCost;
  }

  /** The request used `actual` tokens where `estimated` were booked: settle the difference. */
  settle(estimated: number, actual: number): void {
    this.nextTokensAt += (actual - estimated) * this.tokenInterval();
  }

  /** Adapts to what the provider says about our budget. */
  observe(h: RateLimitHeaders): void {
    if (h.limitRequests && h.limitRequests > 0 && h.limitRequests < this.rpm) this.rpm = h.limitRequests;
    if (h.limitTokens && h.limitTokens > 0 && h.limitTokens < this.tpm) this.tpm = h.limitTokens;
    const now = this.now();
    // An empty budget refills continuously: one more request is free after reset / (limit - remaining).
    if (h.remainingRequests !== undefined && h.remainingRequests < 1 && h.resetRequestsMs !== undefined) {
      const perUnit = h.resetRequestsMs / Math.max(1, (h.limitRequests ?? this.rpm) - h.remainingRequests);
      this.pauseFor(Math.min(h.resetRequestsMs, Math.max(perUnit, 1)), now);
    }
    if (h.remainingTokens !== undefined && h.remainingTokens < 1 && h.resetTokensMs !== undefined) {
      this.pauseFor(h.resetTokensMs, now);
    }
  }

  /** Every caller waits at least `ms` (a 429 with retry-after). */
  pauseFor(ms: number, now = this.now()): void {
    this.pausedUntil = Math.max(this.pausedUntil, now + ms);
  }

  // Paced 2 % under the limit: timer jitter must not push a window over it.
  private requestInterval(): number {
    return 60_000 / (this.rpm * PACE);
  }

  private tokenInterval(): number {
    return 60_000 / (this.tpm * PACE);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** "1s", "6m0s", "12ms", "1h2m3.5s" → milliseconds (undefined when unreadable). */
export function parseDuration(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = '';
  for (let m = re.exec(v); m; m = re.exec(v)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
    matched += m[0];
  }
  return matched === v ? total : undefined;
}
