import { resolveRecipientTimezone, type LeadLocation, type TimezoneSource } from './resolve-timezone';

/** The sender zone asked for at import: no sender is known yet, so none is used. */
const NO_SENDER = '';

/**
 * A lead as stored at import, with its recipient zone resolved from its own
 * data (timezone, state, city, country), so GET /v1/leads/{id} tells it before
 * any gate runs. A lead whose data names no place gets none: which sender's
 * zone stands in is only known when a sender gates it.
 */
export function withImportedZone<L extends LeadLocation>(
  lead: L,
): L & { resolvedTimezone?: string; timezoneSource?: TimezoneSource } {
  const { zone, source } = resolveRecipientTimezone(lead, NO_SENDER);
  return source === 'sender' ? lead : { ...lead, resolvedTimezone: zone, timezoneSource: source };
}
