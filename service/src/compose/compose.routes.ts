import { bigintIdSchema } from '../app/ids';
import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, type AppDeps } from '../app/create-app';
import { problem, problemContent, problemResponses } from '../app/problems';
import { OpenAIProviderError } from '../providers/openai-client';
import { SenderIdSchema } from '../app/schemas';
import { publicBaseUrl } from '../unsubscribe/footer';
import { Composer } from './compose';

const leadId = z
  .union([z.string(), z.number().int()])
  .transform((v) => String(v).trim())
  .pipe(bigintIdSchema('lead'));

const ComposeBody = z
  .object({
    leadIds: z.array(leadId).min(1).max(50),
    regenerate: z.boolean().optional().default(false),
    sender: SenderIdSchema.optional().default('default').openapi({
      description: "Whose name signs the email and whose postal address the footer carries (default 'default').",
    }),
  })
  .strict()
  .openapi('ComposeRequest');

const ComposedEmailSchema = z
  .object({
    leadId: z.string(),
    subject: z.string(),
    text: z.string(),
    html: z.string(),
    product: z.string().nullable(),
    source: z.enum(['catalog', 'website', 'generic']),
    model: z.string().nullable(),
    generated: z.boolean().openapi({ description: 'False when the stored draft of an earlier call is returned.' }),
    website: z
      .object({
        url: z.string().optional(),
        outcome: z.enum(['cached', 'scraped', 'empty', 'refused', 'failed']),
        detail: z.string().optional(),
      })
      .optional()
      .openapi({ description: 'What happened with the company website (only when it was looked at).' }),
  })
  .openapi('ComposedEmail');

const ComposeResult = z
  .object({
    emails: z.array(ComposedEmailSchema),
    failed: z.array(z.object({ leadId: z.string(), code: z.string(), detail: z.string() })),
  })
  .openapi('ComposeResult');

const composeRoute = createRoute({
  method: 'post',
  path: '/v1/compose',
  tags: ['compose'],
  summary: 'Compose the email of each lead (catalog, then website, then generic)',
  request: { body: { required: true, content: { 'application/json': { schema: ComposeBody } } } },
  responses: {
    200: { description: 'Composed emails and per-lead failures', content: { 'application/json': { schema: ComposeResult } } },
    ...problemResponses,
    402: problemContent('OpenAI has no quota left (openai_insufficient_quota)'),
    404: problemContent('No such sender'),
    502: problemContent('OpenAI rejected the key or the model (openai_unauthorized, …)'),
    503: problemContent('OpenAI is not configured (openai_not_configured)'),
  },
});

export function composeRoutes(deps: AppDeps) {
  const composer = new Composer({
    config: deps.config,
    db: deps.db,
    logger: deps.logger,
    openai: deps.openai,
    firecrawl: deps.firecrawl,
    resolveHost: deps.resolveHost,
  });
  return createRouter().openapi(composeRoute, async (c) => {
    const body = c.req.valid('json');
    try {
      const result = await composer.compose({
        leadIds: body.leadIds,
        regenerate: body.regenerate,
        sender: body.sender,
        baseUrl: publicBaseUrl(deps.config, c.req.url),
      });
      return c.json(result, 200);
    } catch (err) {
      if (err instanceof OpenAIProviderError) {
        throw problem(err.httpStatus, err.code, err.message, err.retryAfterMs ? { retryAfter: Math.ceil(err.retryAfterMs / 1000) } : undefined);
      }
      throw err;
    }
  });
}
