import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { jsonText } from '../app/json-text';
import { problemContent, problemResponses } from '../app/problems';
import { SenderIdSchema } from '../app/schemas';
import { LeadSchema } from '../leads/lead-input';

// A pool: several mailboxes (senders) with one daily target. The claim spreads
// the target over the members by the room each has today (routines/pools.sql).

const PoolIdSchema = SenderIdSchema;

const PoolMemberSchema = z
  .object({
    sender: z.string(),
    day: z.string().openapi({ description: "The member's own sender-local day", example: '2026-12-01' }),
    limitToday: z.number().int().openapi({ description: 'Its effective limit today (quota, ramp-up; 0 while paused)' }),
    usedToday: z.number().int().openapi({ description: 'Claimed + scheduled + sent on its day' }),
    roomToday: z.number().int().openapi({ description: 'What a pool claim may still give it today' }),
    closedReason: z
      .enum(['paused', 'not_a_sending_day'])
      .nullable()
      .openapi({ description: 'Why it has no room today whatever its limit, or null' }),
  })
  .openapi('PoolMember');

export const PoolSchema = z
  .object({
    id: z.string(),
    dailyTarget: z.number().int(),
    usedToday: z.number().int().openapi({ description: "Sum of the members' used today (first steps and follow-ups)" }),
    remainingToday: z.number().int().openapi({ description: 'What the pool may still hand out today' }),
    members: z.array(PoolMemberSchema),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Pool');

const PoolUpdateSchema = z
  .object({
    dailyTarget: z.number().int().min(0).max(1_000_000),
    members: z
      .array(SenderIdSchema)
      .max(1000)
      .refine((m) => new Set(m).size === m.length, 'members must not repeat')
      .openapi({ description: 'The sender ids of the pool (replaces the members); a sender is in at most one pool' }),
  })
  .partial()
  .strict()
  .openapi('PoolUpdate');

const PoolClaimBody = z
  .object({
    size: z.number().int().min(1).max(100000).optional().openapi({ description: "At most this many leads (default: the pool's room today)" }),
    idempotencyKey: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .openapi('PoolClaim');

const PoolLeadSchema = LeadSchema.extend({
  sender: z.string().openapi({ description: 'The mailbox (sender) this lead is assigned to, for every step' }),
  batchId: z.string(),
  day: z.string(),
  from: z.object({ name: z.string().nullable(), email: z.string().nullable() }).openapi({ description: "The sender's From" }),
}).openapi('PoolLead');

// (batches.routes' own schema cannot be imported here: it imports the app, which imports this)
const MemberBatchSchema = z
  .object({
    batchId: z.string(),
    sender: z.string(),
    day: z.string().openapi({ description: 'Sender-local date the batch counts against', example: '2026-11-30' }),
    quota: z.number().int().openapi({ description: "The member's effective limit that day" }),
    claimedToday: z.number().int(),
    remainingToday: z.number().int(),
    replayed: z.boolean(),
  })
  .openapi('PoolMemberBatch');

const PoolBatchSchema = z
  .object({
    pool: z.string(),
    dailyTarget: z.number().int(),
    replayed: z.boolean(),
    batches: z.array(MemberBatchSchema).openapi({ description: "Each member's batch of this claim" }),
    skipped: z
      .array(z.object({ leadId: z.string(), reason: z.string() }))
      .openapi({ description: 'Leads passed over on the way (marked skipped with this reason)' }),
    leads: z.array(PoolLeadSchema),
    today: PoolSchema.omit({ createdAt: true, updatedAt: true }).openapi({ description: 'The pool after this claim' }),
  })
  .openapi('PoolBatch');

const idParam = z.object({ id: PoolIdSchema });

const getPool = createRoute({
  method: 'get',
  path: '/v1/pools/{id}',
  tags: ['pools'],
  summary: 'A pool of mailboxes: its daily target, its members and their room today',
  request: { params: idParam },
  responses: {
    200: { description: 'The pool', content: { 'application/json': { schema: PoolSchema } } },
    ...problemResponses,
    404: problemContent('No such pool'),
  },
});

const putPool = createRoute({
  method: 'put',
  path: '/v1/pools/{id}',
  tags: ['pools'],
  summary: 'Create or update a pool (absent fields keep their value)',
  request: { params: idParam, body: { required: true, content: { 'application/json': { schema: PoolUpdateSchema } } } },
  responses: {
    200: { description: 'The pool as stored', content: { 'application/json': { schema: PoolSchema } } },
    ...problemResponses,
    404: problemContent('A member names no sender (sender_not_found)'),
    409: problemContent('A member is in another pool (sender_in_another_pool)'),
  },
});

const claimPool = createRoute({
  method: 'post',
  path: '/v1/pools/{id}/claim',
  tags: ['pools', 'batches'],
  summary: "Claim today's leads for a whole pool: its target spread over its mailboxes by the room each has",
  request: { params: idParam, body: { required: true, content: { 'application/json': { schema: PoolClaimBody } } } },
  responses: {
    200: { description: 'The leads, each with its mailbox (sender) and From', content: { 'application/json': { schema: PoolBatchSchema } } },
    ...problemResponses,
    404: problemContent('No such pool'),
  },
});

export function poolsRoutes({ db, config }: AppDeps) {
  return createRouter()
    .openapi(getPool, async (c) =>
      c.json(await db.call<z.infer<typeof PoolSchema>>('get_pool', { p_pool: c.req.valid('param').id }, { repeatable: true }), 200),
    )
    .openapi(putPool, async (c) =>
      c.json(
        await db.call<z.infer<typeof PoolSchema>>('put_pool', { p_pool: c.req.valid('param').id, p_body: c.req.valid('json') }),
        200,
      ),
    )
    .openapi(claimPool, async (c) => {
      const { size, idempotencyKey } = c.req.valid('json');
      const [batch] = await db.callEachAsJsonText(
        'claim_pool',
        {
          p_pool: c.req.valid('param').id,
          p_size: size ?? null,
          p_idempotency_key: idempotencyKey ?? null,
          p_lease_seconds: config.claimLeaseSeconds,
          p_now: new Date(),
        },
        // a claim with a key answers its batches again when sent again
        { repeatable: idempotencyKey !== undefined },
      );
      // passed on as the database wrote it (400 leads: parsing and serialising again cost as much as the claim)
      return jsonText<z.infer<typeof PoolBatchSchema>, 200>(c, batch!, 200);
    });
}
