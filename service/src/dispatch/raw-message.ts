import type { Config } from '../config/env';
import type { Database } from '../db/database';
import { buildMessage, toBase64Url } from './message';

// Items of n8n delivery carry the whole message (`raw`, RFC 5322, base64url) with
// every header the dispatcher would write, so an operator can send it with the
// HTTP Request node through Gmail's users.messages.send and keep the headers.

interface Identity {
  sendId: string;
  messageId: string;
  fromName: string | null;
  fromEmail: string;
  unsubscribeEmail: string | null;
  thread: string[];
}

interface RawInput {
  sendId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  unsubscribeUrl: string;
}

/** Adds `messageId` (stored on the send) and `raw` to each send; senders without fromEmail get neither. */
export async function withRawMessages<T extends RawInput>(deps: { config: Config; db: Database }, sends: T[]): Promise<(T & { raw?: string })[]> {
  if (sends.length === 0) return sends;
  const ids = await deps.db.call<Identity[]>('assign_message_ids', { p_send_ids: sends.map((s) => s.sendId) });
  const byId = new Map(ids.map((i) => [i.sendId, i]));
  return Promise.all(
    sends.map(async (s) => {
      const id = byId.get(s.sendId);
      if (!id) return s;
      const message = await buildMessage({
        messageId: id.messageId,
        from: { name: id.fromName, email: id.fromEmail },
        to: s.to,
        subject: s.subject,
        text: s.text,
        html: s.html,
        date: deps.config.clock.now(),
        unsubscribeUrl: s.unsubscribeUrl,
        unsubscribeEmail: id.unsubscribeEmail,
        thread: id.thread,
      });
      return { ...s, messageId: id.messageId, raw: toBase64Url(message.raw) };
    }),
  );
}
