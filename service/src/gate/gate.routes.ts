import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemContent, problemResponses } from '../app/problems';
import { SenderIdSchema } from '../app/schemas';
import { bigintIdInputSchema } from '../app/ids';
import { SendSchema, type Send } from '../sends/send-schema';
import { publicBaseUrl, withUnsubscribeHeaders } from '../unsubscribe/footer';
import { withRawMessages } from '../dispatch/raw-message';
import { gateLeads } from './gate';

// text or a JSON number, as compose takes them
const leadId = bigintIdInputSchema('lead');

const GateBody = z
  .object({
    leadIds: z.array(leadId).min(1).max(500),
    sender: SenderIdSchema.optional().default('default'),
    idempotencyKey: z.string().trim().min(1).max(200).optional().openapi({
      description:
        'The same key answers the same: its leads come back as send now / scheduled as long as their send is unchanged ' +
        '(another key gets them as alreadyGated). Lets a client resend a call whose answer it lost.',
    }),
  })
  .strict()
  .openapi('GateRequest');

const GateResultSchema = z
  .object({
    delivery: z.enum(['n8n', 'corofy']).openapi({
      description: 'Who sends sendNow: "n8n" (leased to the caller, status sending) or "corofy" (handed to the dispatcher, status scheduled: do not send them)',
    }),
    sendNow: z.array(SendSchema).openapi({
      description: "The recipient's window is open: leased for sending now (n8n delivery) or handed to Corofy's dispatcher (corofy delivery)",
    }),
    scheduled: z.array(SendSchema).openapi({ description: 'Scheduled at the next window opening with quota room (sendAt, UTC)' }),
    alreadyGated: z
      .array(SendSchema)
      .openapi({ description: 'Leads gated before: their send, unchanged (never handed out a second time)' }),
    skipped: z
      .array(z.object({ leadId: z.string(), code: z.string(), detail: z.string() }))
      .openapi({
        description:
          'Leads not gated: lead_not_found, lead_busy, not_composed, no_draft, no_quota_room and mailbox_paused change nothing; ' +
          'suppressed and no_email mark the lead skipped and release its claim.',
      }),
  })
  .openapi('GateResult');

const gate = createRoute({
  method: 'post',
  path: '/v1/gate',
  tags: ['sends'],
  summary: "Hold composed leads until the recipient's local sending window (send now or schedule)",
  request: { body: { required: true, content: { 'application/json': { schema: GateBody } } } },
  responses: {
    200: { description: 'Each lead: sent now, scheduled, already gated or skipped', content: { 'application/json': { schema: GateResultSchema } } },
    ...problemResponses,
    404: problemContent('No such sender'),
  },
});

export function gateRoutes(deps: AppDeps) {
  const { db, config } = deps;
  return createRouter().openapi(gate, async (c) => {
    const { leadIds, sender, idempotencyKey } = c.req.valid('json');
    const result = await gateLeads<Send>(db, {
      leadIds,
      sender,
      idempotencyKey,
      leaseSeconds: config.sendLeaseSeconds,
      now: config.clock.now(),
    });
    const baseUrl = publicBaseUrl(config, c.req.url);
    const [sendNow, scheduled, alreadyGated] = await Promise.all(
      [result.sendNow, result.scheduled, result.alreadyGated].map((sends) => withUnsubscribeHeaders(deps, baseUrl, sends)),
    );
    if (result.delivery === 'corofy' && result.sendNow.length > 0) deps.dispatcher?.nudge();
    const sendNowItems = result.delivery === 'n8n' ? await withRawMessages(deps, sendNow!) : sendNow!;
    return c.json(
      { delivery: result.delivery, sendNow: sendNowItems, scheduled: scheduled!, alreadyGated: alreadyGated!, skipped: result.skipped },
      200,
    );
  });
}
