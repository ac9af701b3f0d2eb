// The service's clock. Every path that decides by the time of day or the day
// (claim, gate, dispatch "due", events, stats' today) asks it instead of
// reading the machine's clock, and passes the instant to SQL as p_now, so a
// test can run three business days of a sequence in minutes. Only a sandbox
// service can be moved (PUT /v1/sandbox/clock); in production it is the
// machine's clock, always.

export class Clock {
  private offsetMs = 0;

  constructor(readonly movable: boolean) {}

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves the clock to `at` (it keeps running from there). */
  set(at: Date): void {
    if (!this.movable) throw new Error('this service clock cannot be moved (only in sandbox mode)');
    this.offsetMs = at.getTime() - Date.now();
  }

  /** How far the clock is from the machine's, in ms (0 unless moved). */
  get offset(): number {
    return this.offsetMs;
  }
}
