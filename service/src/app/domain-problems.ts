import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DatabaseError } from '../db/database';
import { problem, type ProblemError } from './problems';

// The database raises domain errors (SQLSTATE 'CR000', the code as message, a
// sentence about the data as detail); this table is the one place that says
// what each code means over HTTP. The SQL knows nothing of routes or statuses.

interface DomainProblem {
  status: ContentfulStatusCode;
  /** What to do next, when it names something only the HTTP API knows. */
  hint?: string;
}

export const DOMAIN_PROBLEMS: Record<string, DomainProblem> = {
  validation_failed: { status: 400 },
  lead_not_found: { status: 404 },
  sender_not_found: { status: 404, hint: 'Create it with PUT /v1/senders/{id}, or list them with GET /v1/senders.' },
  sender_incomplete: { status: 409, hint: 'Set them with PUT /v1/senders/{id}.' },
  send_not_found: { status: 404 },
  pool_not_found: { status: 404, hint: 'Create it with PUT /v1/pools/{id}.' },
  sender_in_another_pool: { status: 409 },
  sender_in_pool: { status: 409, hint: 'Claim it with POST /v1/pools/{pool}/claim.' },
  mailbox_paused: { status: 409, hint: 'Resume it with POST /v1/senders/{id}/resume once a person has looked.' },
  search_not_found: { status: 404 },
  suppression_not_found: { status: 404 },
  message_id_conflict: { status: 409 },
  send_not_retryable: { status: 409 },
  send_changed: { status: 409 },
  send_not_discardable: { status: 409 },
  no_quota_room: { status: 409 },
  address_suppressed: { status: 409, hint: 'Remove it with DELETE /v1/suppressions/{value} first if you are sure.' },
  lead_replied: { status: 409 },
  lead_unsubscribed: { status: 409 },
  lead_complained: { status: 409 },
  lead_erased: { status: 409 },
  lead_stopped: { status: 409 },
  delivery_corofy: { status: 409 },
  mailbox_lease_lost: { status: 409 },
  mailbox_incomplete: { status: 422 },
  webhook_not_found: { status: 404 },
};

/** SQLSTATE of Corofy's domain errors. */
export const DOMAIN_ERROR_STATE = 'CR000';

/**
 * The problem a domain error stands for, or undefined when the error is not one
 * (a code missing from the table is a defect: it answers 500 and is logged).
 */
export function domainProblem(err: DatabaseError): ProblemError | undefined {
  if (err.sqlState !== DOMAIN_ERROR_STATE) return undefined;
  const known = DOMAIN_PROBLEMS[err.message];
  if (!known) return undefined;
  const detail = [err.detail, known.hint].filter(Boolean).join(' ');
  return problem(known.status, err.message, detail || undefined);
}
