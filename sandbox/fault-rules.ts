// Switchable faults shared by the provider fakes: a rule lets `after` matching
// requests pass, then answers with its fault `times` times (or until cleared).

export interface FaultRule<F> {
  fault: F;
  /** How many requests it hits before switching itself off (default: until cleared). */
  times?: number;
  /** Let this many matching requests pass first (default 0). */
  after?: number;
}

/** A rule with its counters, as the fakes keep them in their inspectable state. */
export type ArmedFaultRule<R extends FaultRule<unknown>> = R & { seen: number; hits: number };

export function armFaultRules<R extends FaultRule<unknown>>(rules: R[]): ArmedFaultRule<R>[] {
  return rules.map((r) => ({ ...r, seen: 0, hits: 0 }));
}

/** The fault of the first rule that applies to this request (counting it), if any. */
export function takeFault<F, R extends FaultRule<F>>(
  rules: ArmedFaultRule<R>[],
  applies: (rule: R) => boolean = () => true,
): F | undefined {
  for (const rule of rules) {
    if (!applies(rule)) continue;
    rule.seen++;
    if (rule.seen <= (rule.after ?? 0)) continue;
    if (rule.times !== undefined && rule.hits >= rule.times) continue;
    rule.hits++;
    return rule.fault;
  }
  return undefined;
}
