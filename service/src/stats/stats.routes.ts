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

const getStats = createRoute({
  method: 'get',
  path: '/v1/stats',
  tags: ['stats'],
  summary: "A sender's numbers for one sender-local day",
  request: {
    query: z.object({
      sender: SenderIdSchema.optional().default('default'),
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
    200: { description: 'The numbers', content: { 'application/json': { schema: StatsSchema } } },
    ...problemResponses,
    404: problemContent('No such sender'),
  },
});

export function statsRoutes({ db, config }: AppDeps) {
  return createRouter().openapi(getStats, async (c) => {
    const { sender, day } = c.req.valid('query');
    // both only read: safe to repeat on a fresh connection
    const stats = await db.call<Omit<z.infer<typeof StatsSchema>, 'compose'>>(
      'get_stats',
      { p_sender: sender, p_day: day, p_now: config.clock.now() },
      { repeatable: true },
    );
    const compose = await db.call<z.infer<typeof StatsSchema>['compose']>(
      'get_compose_usage',
      { p_sender: sender, p_day: stats.day },
      { repeatable: true },
    );
    return c.json({ ...stats, compose }, 200);
  });
}
