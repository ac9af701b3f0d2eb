import { z } from '@hono/zod-openapi';

export const SEND_STATUSES = ['scheduled', 'sending', 'sent', 'failed', 'dead', 'needs_review', 'cancelled'] as const;

export const SendSchema = z
  .object({
    sendId: z.string(),
    leadId: z.string(),
    step: z.number().int(),
    sender: z.string(),
    day: z.string().openapi({ description: 'Sender-local date the send counts against' }),
    to: z.string(),
    subject: z.string(),
    text: z.string(),
    html: z.string(),
    timezone: z.string(),
    timezoneSource: z.string(),
    localTime: z.string().openapi({ description: "sendAt in the recipient's time zone" }),
    sendAt: z.string(),
    windowEnd: z.string().nullable().openapi({ description: "The recipient's sending window closes then" }),
    status: z.enum(SEND_STATUSES),
    attempts: z.number().int(),
    leaseExpiresAt: z.string().nullable(),
    lastError: z.string().nullable(),
    messageId: z.string().nullable(),
    sentAt: z.string().nullable(),
    unsubscribeUrl: z.string().optional(),
    listUnsubscribe: z.string().optional().openapi({ description: 'Value for the List-Unsubscribe header' }),
    listUnsubscribePost: z.string().optional().openapi({ description: 'Value for the List-Unsubscribe-Post header' }),
    raw: z.string().optional().openapi({
      description:
        'n8n delivery, when the sender has fromEmail: the whole message (RFC 5322, base64url) with our Message-ID, the one-click ' +
        'unsubscribe pair and threading headers, for Gmail users.messages.send ({ "raw": … })',
    }),
  })
  .openapi('Send');

export type Send = z.infer<typeof SendSchema>;
