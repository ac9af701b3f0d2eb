import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemResponses } from '../app/problems';

const EventBody = z
  .object({
    kind: z.enum(['reply', 'bounce', 'complaint', 'unsubscribe']),
    email: z.string().trim().pipe(z.email({ message: 'must be a valid email address' })).optional(),
    inReplyTo: z.string().trim().min(1).max(998).optional(),
    messageId: z.string().trim().min(1).max(998).optional(),
    receivedAt: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
      .refine((v) => !v.startsWith('0000'), 'year 0000 is not a date (the calendar starts at 0001)')
      // Postgres holds offsets up to ±15:59; real zones span −12:00…+14:00
      .refine((v) => !/[+-](1[6-9]|2\d):\d\d$/.test(v), 'the UTC offset must be between -15:59 and +15:59')
      .optional(),
    subject: z.string().max(2000).optional(),
    text: z.string().max(100_000).optional(),
  })
  .strict()
  .refine((e) => e.email !== undefined || e.inReplyTo !== undefined || e.messageId !== undefined, {
    message: 'give at least one of email, inReplyTo or messageId to match the lead',
    path: ['email'],
  })
  .openapi('Event');

const EventResult = z
  .object({
    eventId: z.string(),
    leadId: z.string().nullable(),
    status: z.string().nullable().openapi({ description: "The lead's new status (null when no lead matched)" }),
    cancelledSends: z.number().int(),
    suppressed: z.boolean().openapi({ description: 'The address is now suppressed' }),
    duplicate: z.boolean().openapi({ description: 'The same event was recorded before; nothing changed' }),
  })
  .openapi('EventResult');

const recordEvent = createRoute({
  method: 'post',
  path: '/v1/events',
  tags: ['events'],
  summary: 'Record a reply, bounce, complaint or unsubscribe (idempotent)',
  request: { body: { required: true, content: { 'application/json': { schema: EventBody } } } },
  responses: {
    200: { description: 'What the event changed', content: { 'application/json': { schema: EventResult } } },
    ...problemResponses,
  },
});

export function eventsRoutes({ db, config }: AppDeps) {
  return createRouter().openapi(recordEvent, async (c) => {
    // one event per content (its dedupe key): recorded again, it is the stored result
    const result = await db.call<z.infer<typeof EventResult>>('record_event', {
      p_event: c.req.valid('json'),
      p_now: config.clock.now(),
    }, { repeatable: true });
    return c.json({ ...result, leadId: result.leadId ?? null, status: result.status ?? null }, 200);
  });
}
