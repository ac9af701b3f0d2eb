import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { bigintIdSchema } from '../app/ids';
import { problemContent, problemResponses } from '../app/problems';
import { SenderIdSchema } from '../app/schemas';
import { rescheduleMissed, type MissedSend } from '../sweeper/sweeper';
import { publicBaseUrl, withUnsubscribeHeaders } from '../unsubscribe/footer';
import { withRawMessages } from '../dispatch/raw-message';
import { SEND_STATUSES, SendSchema, type Send } from './send-schema';

const sendId = bigintIdSchema('send');
const leadId = bigintIdSchema('lead');

const ClaimDueBody = z
  .object({
    sender: SenderIdSchema.optional(),
    limit: z.number().int().min(1).max(500).optional().default(50),
    idempotencyKey: z.string().trim().min(1).max(200).optional().openapi({
      description:
        'The same key answers with the sends it leased while they are still leased (sending), so a client may resend a call whose answer it lost.',
    }),
  })
  .strict()
  .openapi('ClaimDue');

const ReportBody = z
  .object({
    results: z
      .array(
        z
          .object({
            sendId,
            status: z.enum(['sent', 'failed']),
            messageId: z.string().trim().min(1).max(998).optional(),
            error: z.string().max(2000).optional(),
            permanent: z.boolean().optional(),
            attempt: z.number().int().min(1).optional().openapi({
              description: "The Send's `attempts` when it was handed out; a report about an earlier attempt is ignored",
            }),
          })
          .strict(),
      )
      .min(1)
      .max(500)
      .refine((r) => new Set(r.map((x) => x.sendId)).size === r.length, 'each sendId may appear only once')
      .refine((r) => {
        const ids = r.flatMap((x) => (x.messageId ? [x.messageId.replace(/^<|>$/g, '')] : []));
        return new Set(ids).size === ids.length;
      }, 'two results carry the same messageId'),
  })
  .strict()
  .openapi('SendReport');

const ReportResult = z
  .object({
    recorded: z.number().int(),
    retrying: z.number().int(),
    deadLettered: z.number().int(),
    cancelled: z.number().int().openapi({
      description: 'Failed attempts not retried: the lead replied, bounced, unsubscribed or complained, or the address was suppressed meanwhile',
    }),
    duplicates: z.number().int().openapi({ description: 'Results already recorded earlier (harmless)' }),
    ignored: z.array(z.object({ sendId: z.string(), status: z.string(), reason: z.string() })),
  })
  .openapi('SendReportResult');

const sendsList = z.object({ sends: z.array(SendSchema) });

const claimDue = createRoute({
  method: 'post',
  path: '/v1/sends/claim-due',
  tags: ['sends'],
  summary: 'Lease due sends (inside their recipient window) for sending',
  request: { body: { required: true, content: { 'application/json': { schema: ClaimDueBody } } } },
  responses: {
    200: { description: 'Leased sends (status sending)', content: { 'application/json': { schema: sendsList } } },
    ...problemResponses,
    404: problemContent('No such sender'),
    409: problemContent('The sender has delivery "corofy": the service sends its email (delivery_corofy)'),
  },
});

const report = createRoute({
  method: 'post',
  path: '/v1/sends/report',
  tags: ['sends'],
  summary: 'Report sent / failed outcomes (idempotent)',
  request: { body: { required: true, content: { 'application/json': { schema: ReportBody } } } },
  responses: {
    200: { description: 'What was recorded', content: { 'application/json': { schema: ReportResult } } },
    ...problemResponses,
    404: problemContent('Unknown send id (nothing recorded)'),
    409: problemContent('messageId already used by another send (nothing recorded)'),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/sends',
  tags: ['sends'],
  summary: 'List sends (e.g. dead letters and needs_review), newest change first',
  request: {
    query: z.object({
      status: z.enum(SEND_STATUSES).optional(),
      sender: SenderIdSchema.optional(),
      leadId: leadId.optional(),
      limit: z.coerce.number().int().min(1).max(500).optional().default(100),
    }),
  },
  responses: {
    200: { description: 'Sends', content: { 'application/json': { schema: sendsList } } },
    ...problemResponses,
  },
});

const retry = createRoute({
  method: 'post',
  path: '/v1/sends/{id}/retry',
  tags: ['sends'],
  summary: 'Put a dead or needs_review send back in the queue (a human decision)',
  request: { params: z.object({ id: sendId }) },
  responses: {
    200: { description: 'The send, scheduled again', content: { 'application/json': { schema: SendSchema } } },
    ...problemResponses,
    404: problemContent('No such send'),
    409: problemContent(
      'The send is not dead or needs_review, its address is suppressed, or its lead replied, unsubscribed or complained (lead_replied, …)',
    ),
  },
});

const discard = createRoute({
  method: 'post',
  path: '/v1/sends/{id}/discard',
  tags: ['sends'],
  summary: 'Never send a dead or needs_review send (a human decision): it becomes cancelled, its lead skipped',
  request: { params: z.object({ id: sendId }) },
  responses: {
    200: { description: 'The send, cancelled', content: { 'application/json': { schema: SendSchema } } },
    ...problemResponses,
    404: problemContent('No such send'),
    409: problemContent('The send is not dead or needs_review (send_not_discardable)'),
  },
});

export function sendsRoutes(deps: AppDeps) {
  const { db, config } = deps;
  return createRouter()
    .openapi(claimDue, async (c) => {
      const { sender, limit, idempotencyKey } = c.req.valid('json');
      // n8n's queue drain: never the sends of a sender whose mailbox Corofy drives;
      // with an idempotency key it is safe to repeat (claim_due_sends_once)
      const args = { p_sender: sender, p_limit: limit, p_lease_seconds: config.sendLeaseSeconds, p_now: config.clock.now() };
      const { sends } =
        idempotencyKey === undefined
          ? await db.call<{ sends: Send[] }>('claim_due_for_n8n', args)
          : await db.call<{ sends: Send[] }>(
              'claim_due_sends_once',
              { p_idempotency_key: idempotencyKey, ...args },
              { repeatable: true },
            );
      const withHeaders = await withUnsubscribeHeaders(deps, publicBaseUrl(config, c.req.url), sends);
      return c.json({ sends: await withRawMessages(deps, withHeaders) }, 200);
    })
    .openapi(report, async (c) => {
      // a send already settled by this result (same send and attempt) counts as a duplicate
      const result = await db.call<z.infer<typeof ReportResult>>('report_sends', {
        p_results: c.req.valid('json').results,
        p_max_attempts: config.sendMaxAttempts,
        p_backoff_seconds: config.retryBackoffSeconds,
        p_now: config.clock.now(),
      }, { repeatable: true });
      return c.json(result, 200);
    })
    .openapi(list, async (c) => {
      const q = c.req.valid('query');
      const r = await db.call<{ sends: Send[] }>('list_sends', {
        p_status: q.status,
        p_sender: q.sender,
        p_lead_id: q.leadId,
        p_limit: q.limit,
      });
      return c.json(r, 200);
    })
    .openapi(retry, async (c) => c.json(await retryAndPlaceSend(deps, c.req.valid('param').id, config.clock.now()), 200))
    .openapi(discard, async (c) =>
      c.json(await db.call<Send>('discard_send', { p_id: c.req.valid('param').id, p_now: config.clock.now() }), 200),
    );
}

/** Retries a dead or needs_review send and places it in the recipient's next sending window right away (the sweeper would, too). */
export async function retryAndPlaceSend(deps: AppDeps, id: string, now: Date): Promise<Send> {
  const send = await deps.db.call<Send>('retry_send', { p_id: id, p_now: now });
  const missed = await deps.db.call<MissedSend[]>('missed_sends', { p_now: now, p_limit: 1, p_send_ids: [send.sendId] });
  const moved = await rescheduleMissed(deps, missed, now);
  return moved.get(send.sendId) ?? send;
}
