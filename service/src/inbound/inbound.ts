import type { AppDeps } from '../app/deps';
import { classifyMessage, type ClassifiedMessage } from './classify';
import type { InboundResult } from './inbound-schema';

type Deps = Pick<AppDeps, 'db' | 'wakeWebhooks' | 'config'>;

/**
 * Classifies one raw message and records it (once per Message-ID) in one SQL
 * call: the events it causes and the webhook deliveries they queue commit together.
 */
export async function recordInboundMessage(
  deps: Deps,
  raw: Buffer,
  sender: string | null = null,
  now = deps.config.clock.now(),
): Promise<InboundResult & { classified: ClassifiedMessage }> {
  const classified = await classifyMessage(raw);
  const result = await deps.db.call<InboundResult>('record_inbound', {
    p_message: classified,
    p_sender: sender,
    p_now: now,
  });
  if (result.events.length > 0 && !result.duplicate) deps.wakeWebhooks?.();
  return { ...result, classified };
}

/** A body that has no header block at all is not a message (a JSON document, an empty file). */
export function looksLikeMessage(raw: Buffer): boolean {
  const head = raw.subarray(0, 64 * 1024).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const headerBlock = end >= 0 ? head.slice(0, end) : head;
  return /^[!-9;-~]+:/m.test(headerBlock) && /^(from|message-id|subject|received|return-path|content-type|to|date):/im.test(headerBlock);
}
