import type { Database } from '../db/database';
import { resolveRecipientTimezone, type TimezoneSource } from '../timezone/resolve-timezone';
import { upcomingWindows, type SendingRule } from '../timezone/sending-window';
import { localTimeIso } from '../timezone/zone-clock';

// The timezone gate: the service resolves each recipient's zone and computes
// the next sending windows on the recipient's wall clock (DST, holidays); one
// SQL function (gate_leads) then turns each composed lead into a send inside
// the first of those windows whose sender-day has quota room, atomically.

/** Windows offered per lead: about six weeks of business days, enough to find quota room. */
export const GATE_WINDOWS_PER_LEAD = 30;

interface PreparedLead {
  leadId: string;
  status: string;
  timezone: string | null;
  country: string | null;
  state: string | null;
  city: string | null;
}

interface PreparedSender {
  id: string;
  timezone: string;
  window: { days: string[]; start: string; end: string };
  skipHolidays: boolean;
}

export interface GatePlan {
  leadId: string;
  timezone: string;
  timezoneSource: TimezoneSource;
  windows: { start: string; end: string }[];
}

export interface GateSkip {
  leadId: string;
  code: string;
  detail: string;
}

interface GatedSend {
  sendAt: string;
  timezone: string;
  localTime: string;
}

export interface GateResult<S> {
  /** Who sends the sendNow items: n8n (they are leased, `sending`), or Corofy's dispatcher (`scheduled` at once). */
  delivery: 'n8n' | 'corofy';
  sendNow: S[];
  scheduled: S[];
  alreadyGated: S[];
  skipped: GateSkip[];
}

/** The sender's rule as the window code takes it. */
export function senderRule(sender: PreparedSender): SendingRule {
  return {
    days: sender.window.days,
    start: sender.window.start,
    end: sender.window.end,
    skipHolidays: sender.skipHolidays,
  };
}

/** Each lead's zone and its next windows from `now` (only leads that may still be gated need them). */
export function planLeads(leads: PreparedLead[], sender: PreparedSender, now: Date, count = GATE_WINDOWS_PER_LEAD): GatePlan[] {
  const rule = senderRule(sender);
  return leads.map((lead) => {
    const { zone, source } = resolveRecipientTimezone(lead, sender.timezone);
    const windows =
      lead.status === 'composed'
        ? upcomingWindows({ timezone: zone, country: lead.country ?? undefined, state: lead.state ?? undefined }, rule, now, count).map(
            (w) => ({ start: w.start.toISOString(), end: w.end.toISOString() }),
          )
        : [];
    return { leadId: lead.leadId, timezone: zone, timezoneSource: source, windows };
  });
}

/**
 * Gates the leads for one sender at `now`: unknown ids and leads that are not
 * composed come back in `skipped` (nothing changes), leads gated before in
 * `alreadyGated` (unchanged). With an idempotency key, the leads this key
 * gated before come back as they were answered then (send now / scheduled)
 * while their send is unchanged: a call sent twice answers the same.
 */
export async function gateLeads<S>(
  db: Database,
  input: { leadIds: string[]; sender: string; leaseSeconds: number; now: Date; idempotencyKey?: string },
): Promise<GateResult<S>> {
  const leadIds = [...new Set(input.leadIds)];
  const prepared = await db.call<{ sender: PreparedSender; leads: PreparedLead[] }>('gate_prepare', {
    p_sender: input.sender,
    p_lead_ids: leadIds,
  }, { repeatable: true });
  const plans = planLeads(prepared.leads, prepared.sender, input.now);
  const known = new Set(plans.map((p) => p.leadId));
  // for a sender whose mailbox Corofy drives, sends due now go to the dispatcher;
  // with an idempotency key the call is safe to repeat (gate_leads_once)
  const result = await db.call<GateResult<S & GatedSend>>(
    'gate_and_hand_over',
    {
      p_sender: input.sender,
      p_leads: plans,
      p_now: input.now,
      p_lease_seconds: input.leaseSeconds,
      p_idempotency_key: input.idempotencyKey ?? null,
    },
    { repeatable: input.idempotencyKey !== undefined },
  );
  for (const id of leadIds) {
    if (!known.has(id)) result.skipped.push({ leadId: id, code: 'lead_not_found', detail: `No lead has id ${id}.` });
  }
  // The recipient's wall time from the same zone data the windows came from.
  for (const send of [...result.sendNow, ...result.scheduled, ...result.alreadyGated]) {
    send.localTime = localTimeIso(Date.parse(send.sendAt), send.timezone) ?? send.localTime;
  }
  return result;
}
