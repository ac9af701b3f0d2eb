import type { Clock } from '../clock/clock';
import type { Database } from '../db/database';

// Claims of one sender take turns on the sender-day's ledger row in the
// database, and each turn used to cost a transaction of its own: a lock handed
// from backend to backend and a commit, for 10 leads. Here a sender has at most
// one claim call in flight from this process; the claims that arrive meanwhile
// wait here (not holding a database connection) and go together in the next
// call, where they take their turns, in arrival order, inside one transaction
// (claim_batches). A claim that finds its sender idle goes at once: grouping
// never adds a wait, it only fills the wait a busy sender imposes anyway.
// Other replicas group their own claims; the ledger lock orders them all.

export interface ClaimRequest {
  size?: number;
  idempotencyKey?: string;
}

interface WaitingClaim extends ClaimRequest {
  resolve(batchJson: string): void;
  reject(err: unknown): void;
}

/** Most claims in one call: bounds how long one transaction holds the ledger row. */
export const MAX_CLAIMS_PER_CALL = 64;

export class ClaimGroups {
  private readonly waiting = new Map<string, WaitingClaim[]>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly leaseSeconds: number,
    private readonly clock: Clock,
  ) {}

  /** The claim's batch as the database wrote it (JSON text of a Batch). */
  claim(sender: string, request: ClaimRequest): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const queue = this.waiting.get(sender) ?? [];
      queue.push({ ...request, resolve, reject });
      this.waiting.set(sender, queue);
      if (!this.busy.has(sender)) void this.drain(sender);
    });
  }

  private async drain(sender: string): Promise<void> {
    this.busy.add(sender);
    try {
      for (;;) {
        const queue = this.waiting.get(sender);
        if (!queue || queue.length === 0) break;
        const group = queue.splice(0, MAX_CLAIMS_PER_CALL);
        if (queue.length === 0) this.waiting.delete(sender);
        await this.send(sender, group);
      }
    } finally {
      this.busy.delete(sender);
    }
  }

  /** One call for the group; a failed call (unknown sender, database down) fails each of its claims. */
  private async send(sender: string, group: WaitingClaim[]): Promise<void> {
    try {
      const batches = await this.db.callEachAsJsonText('claim_batches', {
        p_sender: sender,
        p_claims: group.map(({ size, idempotencyKey }) => ({ size, idempotencyKey })),
        p_lease_seconds: this.leaseSeconds,
        p_now: this.clock.now(),
      },
      // a claim with a key returns its batch when sent again; one without would claim anew
      { repeatable: group.every((claim) => claim.idempotencyKey !== undefined) },
      );
      if (batches.length !== group.length) {
        throw new Error(`claim_batches answered ${batches.length} batches for ${group.length} claims`);
      }
      group.forEach((claim, i) => claim.resolve(batches[i]!));
    } catch (err) {
      for (const claim of group) claim.reject(err);
    }
  }
}
