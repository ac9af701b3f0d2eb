import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { jsonText } from '../app/json-text';
import { problemContent, problemResponses } from '../app/problems';
import { LeadSchema } from '../leads/lead-input';
import { SenderIdSchema } from '../app/schemas';
import { ClaimGroups } from './claim-groups';

const ClaimBody = z
  .object({
    sender: SenderIdSchema.optional().default('default'),
    size: z.number().int().min(1).max(100000).optional(),
    idempotencyKey: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .openapi('BatchClaim');

export const BatchSchema = z
  .object({
    batchId: z.string(),
    sender: z.string(),
    day: z.string().openapi({ description: 'Sender-local date the batch counts against', example: '2026-11-30' }),
    quota: z.number().int(),
    claimedToday: z.number().int().openapi({ description: 'Quota used on that day (claimed + scheduled + sent)' }),
    remainingToday: z.number().int(),
    replayed: z.boolean().openapi({ description: 'True when an earlier claim with this idempotency key was returned' }),
    skipped: z
      .array(z.object({ leadId: z.string(), reason: z.enum(['no_email', 'suppressed']) }))
      .openapi({ description: 'Leads passed over on the way (marked skipped with this reason)' }),
    leads: z.array(LeadSchema),
  })
  .openapi('Batch');

export type Batch = z.infer<typeof BatchSchema>;

const claimBatch = createRoute({
  method: 'post',
  path: '/v1/batches/claim',
  tags: ['batches'],
  summary: "Claim the next leads in sequence order, within the sender's daily quota",
  request: { body: { required: true, content: { 'application/json': { schema: ClaimBody } } } },
  responses: {
    200: { description: 'The batch (possibly empty)', content: { 'application/json': { schema: BatchSchema } } },
    ...problemResponses,
    404: problemContent('No such sender'),
  },
});

export function batchesRoutes({ db, config }: AppDeps) {
  const claims = new ClaimGroups(db, config.claimLeaseSeconds, config.clock);
  return createRouter().openapi(claimBatch, async (c) => {
    const { sender, size, idempotencyKey } = c.req.valid('json');
    return jsonText<Batch, 200>(c, await claims.claim(sender, { size, idempotencyKey }), 200);
  });
}
