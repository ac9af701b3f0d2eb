import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemResponses } from '../app/problems';
import { newWebhookSecret } from './signing';

export const WEBHOOK_EVENTS = ['reply', 'auto_reply', 'bounce', 'complaint', 'unsubscribe', 'send_failed', 'needs_review'] as const;

const WebhookInput = z
  .object({
    url: z
      .string()
      .trim()
      .max(2000)
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL'),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
    description: z.string().trim().max(500).optional(),
  })
  .strict()
  .openapi('WebhookInput');

const Webhook = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    createdAt: z.string(),
    deliveries: z.object({ pending: z.number().int(), delivered: z.number().int(), dead: z.number().int() }),
  })
  .openapi('Webhook');

const CreatedWebhook = Webhook.extend({
  secret: z.string().openapi({ description: 'Standard Webhooks signing secret (whsec_…); shown only here' }),
}).openapi('CreatedWebhook');

const Delivery = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    messageId: z.string().openapi({ description: 'The webhook-id header (the same on every retry)' }),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'dead']),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
    payload: z.unknown(),
  })
  .openapi('WebhookDelivery');

const IdParam = z.object({ id: z.uuid({ message: 'must be a webhook id (uuid)' }) });

const create = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  tags: ['webhooks'],
  summary: 'Subscribe a URL to events (signed the Standard Webhooks way)',
  request: { body: { required: true, content: { 'application/json': { schema: WebhookInput } } } },
  responses: {
    201: { description: 'The webhook, with its secret (shown once)', content: { 'application/json': { schema: CreatedWebhook } } },
    ...problemResponses,
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/webhooks',
  tags: ['webhooks'],
  summary: 'Every webhook with its delivery counts',
  responses: {
    200: { description: 'Webhooks', content: { 'application/json': { schema: z.object({ webhooks: z.array(Webhook) }) } } },
    ...problemResponses,
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}',
  tags: ['webhooks'],
  summary: 'One webhook',
  request: { params: IdParam },
  responses: {
    200: { description: 'The webhook', content: { 'application/json': { schema: Webhook } } },
    ...problemResponses,
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/webhooks/{id}',
  tags: ['webhooks'],
  summary: 'Remove a webhook and its queued deliveries',
  request: { params: IdParam },
  responses: {
    200: { description: 'The removed webhook', content: { 'application/json': { schema: Webhook.extend({ deleted: z.boolean() }) } } },
    ...problemResponses,
  },
});

const deliveries = createRoute({
  method: 'get',
  path: '/v1/webhooks/{id}/deliveries',
  tags: ['webhooks'],
  summary: "A webhook's deliveries, newest first (status=dead: the dead letters)",
  request: {
    params: IdParam,
    query: z.object({
      status: z.enum(['pending', 'delivered', 'dead']).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
  },
  responses: {
    200: { description: 'Deliveries', content: { 'application/json': { schema: z.object({ deliveries: z.array(Delivery) }) } } },
    ...problemResponses,
  },
});

export function webhooksRoutes({ db }: AppDeps) {
  return createRouter()
    .openapi(create, async (c) => {
      const input = c.req.valid('json');
      const w = await db.call<z.infer<typeof CreatedWebhook>>('create_webhook', {
        p_url: input.url,
        p_events: `{${input.events.join(',')}}`,
        p_secret: newWebhookSecret(),
        p_description: input.description ?? null,
      });
      return c.json(w, 201);
    })
    .openapi(list, async (c) => c.json(await db.call<{ webhooks: z.infer<typeof Webhook>[] }>('list_webhooks'), 200))
    .openapi(get, async (c) => c.json(await db.call<z.infer<typeof Webhook>>('get_webhook', { p_id: c.req.valid('param').id }), 200))
    .openapi(remove, async (c) =>
      c.json(await db.call<z.infer<typeof Webhook> & { deleted: boolean }>('delete_webhook', { p_id: c.req.valid('param').id }), 200),
    )
    .openapi(deliveries, async (c) => {
      const { status, limit } = c.req.valid('query');
      return c.json(
        await db.call<{ deliveries: z.infer<typeof Delivery>[] }>('list_webhook_deliveries', {
          p_webhook_id: c.req.valid('param').id,
          p_status: status ?? null,
          p_limit: limit,
        }),
        200,
      );
    });
}
