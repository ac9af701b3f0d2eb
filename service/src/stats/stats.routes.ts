import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemContent, problemResponses } from '../app/problems';
import { SenderIdSchema } from '../app/schemas';

const count = z.number().int();
const StatsSchema = z
  .object({
    sender: z.string(),
    day: z.string().openapi({ example: '2026-11-30' }),
    quota: count,
    claimed: count.openapi({ description: 'claimed for this day and not yet scheduled' }),
    scheduled: count,
    sending: count,
    sent: count,
    failed: count,
    dead: count,
    needsReview: count,
    cancelled: count,
    replied: count,
    bounced: count,
    unsubscribed: count,
    complained: count,
    used: count.openapi({ description: 'quota used: claimed + scheduled (incl. sending) + sent' }),
    remaining: count.openapi({ description: 'quota left for this day' }),
    batchedLeads: count.openapi({ description: 'leads handed out in batches claimed for this day' }),
    steps: z
      .array(
        z.object({
          step: count.openapi({ description: 'Sequence step: 1 the first email, 2… the follow-ups' }),
          sent: count.openapi({ description: 'emails of this step sent on this day' }),
          replied: count.openapi({ description: 'replies received this day to an email of this step' }),
          bounced: count.openapi({ description: 'bounces received this day for an email of this step' }),
          replyRate: z.number().nullable().openapi({ description: 'replied / sent (null when nothing was sent)' }),
        }),
      )
      .openapi({ description: 'Per sequence step, for this day (steps with nothing sent or received are left out)' }),
    apolloCreditsUsed: count,
    compose: z
      .object({
        requests: count,
        promptTokens: count,
        completionTokens: count,
        totalTokens: count,
        drafts: count.openapi({ description: 'drafts stored this day' }),
        rejected: count.openapi({ description: 'leads given up on after two rejected drafts' }),
        models: z.array(z.string()),
      })
      .openapi({ description: "What composing cost this day: the AI's own token counts (previews not included)" }),
  })
  .openapi('Stats');

const PoolStatsSchema = z
  .object({
    pool: z
      .object({
        id: z.string(),
        dailyTarget: count,
        usedToday: count.openapi({ description: "Sum of the mailboxes' used today (each on its own sender-local day)" }),
        remainingToday: count,
      })
      .openapi({ description: 'The pool today' }),
    mailboxes: z.array(StatsSchema).openapi({ description: "Each mailbox's numbers for its own sender-local day" }),
  })
  .openapi('PoolStats');

const getStats = createRoute({
  method: 'get',
  path: '/v1/stats',
  tags: ['stats'],
  summary: "A sender's numbers for one sender-local day",
  request: {
    query: z.object({
      sender: SenderIdSchema.optional().default('default'),
      pool: SenderIdSchema.optional().openapi({
        description: 'A pool instead of a sender: the pool today and each of its mailboxes (sender is then ignored)',
      }),
      day: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
        // a calendar date Postgres takes: "2026-02-30" and year 0000 are not
        .refine((d) => {
          const t = Date.parse(`${d}T00:00:00Z`);
          return d >= '0001' && !Number.isNaN(t) && new Date(t).toISOString().startsWith(d);
        }, 'must be a real date')
        .optional(),
    }),
  },
  responses: {
    200: {
      description: 'The numbers (of the sender, or with ?pool= of the pool and each mailbox)',
      content: { 'application/json': { schema: z.union([StatsSchema, PoolStatsSchema]) } },
    },
    ...problemResponses,
    404: problemContent('No such sender or pool'),
  },
});

type Stats = z.infer<typeof StatsSchema>;

export function statsRoutes({ db, config }: AppDeps) {
  // all reads: safe to repeat on a fresh connection
  const senderStats = async (sender: string, day: string | undefined): Promise<Stats> => {
    const stats = await db.call<Omit<Stats, 'compose'>>(
      'get_stats',
      { p_sender: sender, p_day: day, p_now: config.clock.now() },
      { repeatable: true },
    );
    const compose = await db.call<Stats['compose']>(
      'get_compose_usage',
      { p_sender: sender, p_day: stats.day },
      { repeatable: true },
    );
    return { ...stats, compose };
  };
  return createRouter().openapi(getStats, async (c) => {
    const { sender, pool, day } = c.req.valid('query');
    if (pool === undefined) return c.json(await senderStats(sender, day), 200);
    const p = await db.call<{ id: string; dailyTarget: number; usedToday: number; remainingToday: number; members: { sender: string }[] }>(
      'get_pool',
      { p_pool: pool },
      { repeatable: true },
    );
    const mailboxes: Stats[] = [];
    for (const m of p.members) mailboxes.push(await senderStats(m.sender, day));
    const { id, dailyTarget, usedToday, remainingToday } = p;
    return c.json({ pool: { id, dailyTarget, usedToday, remainingToday }, mailboxes }, 200);
  });
}
