import type { Database } from '../db/database';
import type { Send } from '../sends/send-schema';

// What the status page shows, read with one SQL function per panel (see
// routines/status.sql; its indexes are in the sends, batches and compose
// migrations). The per-sender numbers are GET /v1/stats's own.

export interface SenderToday {
  sender: string;
  day: string;
  timezone: string;
  fromName: string | null;
  fromEmail: string | null;
  postalAddress: string | null;
  quota: number;
  used: number;
  remaining: number;
  batchedLeads: number;
  claimed: number;
  scheduled: number;
  sending: number;
  sent: number;
  failed: number;
  dead: number;
  needsReview: number;
  cancelled: number;
  replied: number;
  bounced: number;
  unsubscribed: number;
  complained: number;
  apolloCreditsUsed: number;
}

export interface StatusToday {
  day: string;
  timezone: string;
  senders: SenderToday[];
  searched: { searches: number; leadsAdded: number; creditsUsed: number };
  composed: { catalog: number; website: number; generic: number };
}

export interface StatusQueue {
  from: string;
  hours: { hour: string; timezone: string; count: number }[];
}

export interface StatusEvent {
  id: string;
  kind: 'reply' | 'bounce' | 'complaint' | 'unsubscribe';
  email: string | null;
  leadId: string | null;
  sender: string | null;
  subject: string | null;
  snippet: string;
  receivedAt: string;
}

export interface StatusHistory {
  timezone: string;
  days: { day: string; sent: number; replies: number; bounces: number; apolloCredits: number }[];
  steps: { step: number; sent: number; replies: number }[];
}

export interface StatusPageData {
  today: StatusToday;
  queue: StatusQueue;
  deadLetters: Send[];
  needsReview: Send[];
  events: StatusEvent[];
  history: StatusHistory;
}

export const ATTENTION_LIMIT = 50;
export const EVENTS_LIMIT = 20;

export const STATUS_PANELS = {
  today: (db: Database, now: Date) => db.call<StatusToday>('status_today', { p_now: now }),
  queue: (db: Database, now: Date) => db.call<StatusQueue>('status_queue', { p_now: now }),
  deadLetters: (db: Database) => db.call<Send[]>('status_sends', { p_status: 'dead', p_limit: ATTENTION_LIMIT }),
  needsReview: (db: Database) => db.call<Send[]>('status_sends', { p_status: 'needs_review', p_limit: ATTENTION_LIMIT }),
  events: (db: Database) => db.call<StatusEvent[]>('status_events', { p_limit: EVENTS_LIMIT }),
  history: (db: Database, now: Date) => db.call<StatusHistory>('status_history', { p_now: now, p_days: 30 }),
} as const;

export async function loadStatusPage(db: Database, now = new Date()): Promise<StatusPageData> {
  const [today, queue, deadLetters, needsReview, events, history] = await Promise.all([
    STATUS_PANELS.today(db, now),
    STATUS_PANELS.queue(db, now),
    STATUS_PANELS.deadLetters(db),
    STATUS_PANELS.needsReview(db),
    STATUS_PANELS.events(db),
    STATUS_PANELS.history(db, now),
  ]);
  return { today, queue, deadLetters, needsReview, events, history };
}
