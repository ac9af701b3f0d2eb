import { z } from '@hono/zod-openapi';

const InboundEvent = z
  .object({
    eventId: z.string(),
    leadId: z.string().nullable(),
    status: z.string().nullable(),
    cancelledSends: z.number().int(),
    suppressed: z.boolean(),
  })
  .openapi('InboundEvent');

export const InboundResult = z
  .object({
    kind: z.enum(['reply', 'auto_reply', 'bounce', 'complaint', 'unsubscribe', 'other']),
    leadId: z.string().nullable(),
    sendId: z.string().nullable(),
    matchedBy: z
      .enum(['message_id', 'email', 'company'])
      .nullable()
      .openapi({ description: 'How the lead was found: our Message-ID, its address, or another address at its company' }),
    bounce: z
      .object({
        recipients: z.array(
          z.object({
            email: z.string(),
            status: z.string().openapi({ description: 'Enhanced status code (RFC 3463), e.g. 5.1.1' }),
            hard: z.boolean().openapi({ description: 'The address does not exist: it is suppressed' }),
            leadId: z.string().nullable(),
          }),
        ),
      })
      .nullable(),
    event: InboundEvent.nullable().openapi({ description: 'The (first) event the message caused' }),
    events: z.array(InboundEvent).openapi({ description: 'Every event (a bounce causes one per failed recipient)' }),
    duplicate: z.boolean().openapi({ description: 'This Message-ID was recorded before; nothing changed' }),
  })
  .openapi('InboundResult');

export type InboundResult = z.infer<typeof InboundResult>;
