import { bigintIdSchema } from '../app/ids';
import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, type AppDeps } from '../app/create-app';
import { problem, problemContent, problemResponses } from '../app/problems';
import { LeadInputSchema } from '../leads/lead-input';
import { SenderProfileUpdateSchema } from '../sender-profile/sender-profile.routes';
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

const TokensSchema = z.object({ prompt: z.number().int(), completion: z.number().int(), total: z.number().int() }).openapi('Tokens');

const WebsiteOutcomeSchema = z
  .object({
    url: z.string().optional(),
    outcome: z.enum(['cached', 'scraped', 'empty', 'refused', 'failed']),
    detail: z.string().optional(),
  })
  .openapi({ description: 'What happened with the company website (only when it was looked at).' });

const ComposedEmailSchema = z
  .object({
    leadId: z.string(),
    subject: z.string(),
    text: z.string(),
    html: z.string(),
    product: z.string().nullable(),
    source: z.enum(['catalog', 'website', 'generic', 'followup', 'template']).openapi({ description: "followup: a follow-up the AI wrote; template: filled in from the step's template" }),
    model: z.string().nullable(),
    language: z.string().nullable().openapi({ description: 'ISO 639-1 code of the language the email is written in.' }),
    tokens: TokensSchema.nullable().openapi({ description: 'What the draft cost (all AI calls of it; null for drafts stored before tokens were counted).' }),
    generated: z.boolean().openapi({ description: 'False when the stored draft of an earlier call is returned.' }),
    website: WebsiteOutcomeSchema.optional(),
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

const PreviewLeadSchema = LeadInputSchema.pick({
  firstName: true,
  lastName: true,
  title: true,
  companyName: true,
  companyDomain: true,
  website: true,
  industry: true,
  country: true,
  state: true,
  city: true,
}).strict();

const PreviewBody = z
  .object({
    sender: SenderIdSchema.optional().default('default').openapi({ description: "Whose profile, voice and language to write with (default 'default')." }),
    leadId: leadId.optional().openapi({ description: 'A stored lead to preview (its status does not matter and does not change).' }),
    lead: PreviewLeadSchema.optional().openapi({ description: "A lead's fields, for a lead that is not stored." }),
    profile: SenderProfileUpdateSchema.optional().openapi({
      description: "Profile fields to try instead of the sender's stored ones, for this preview only (null fields are ignored).",
    }),
  })
  .strict()
  .refine((b) => (b.leadId === undefined) !== (b.lead === undefined), { message: 'give exactly one of leadId and lead', path: ['lead'] })
  .openapi('ComposePreviewRequest');

const PreviewResult = z
  .object({
    leadId: z.string().nullable(),
    subject: z.string(),
    text: z.string(),
    html: z.string(),
    product: z.string().nullable(),
    source: z.enum(['catalog', 'website', 'generic', 'followup', 'template']),
    model: z.string(),
    language: z.string(),
    tokens: TokensSchema,
    requests: z.number().int().openapi({ description: 'AI requests made (a rejected first draft is written again once).' }),
    website: WebsiteOutcomeSchema.optional(),
  })
  .openapi('ComposePreview');

const previewRoute = createRoute({
  method: 'post',
  path: '/v1/compose/preview',
  tags: ['compose'],
  summary: 'The email a lead would get now, with its cost: stores nothing, claims nothing',
  request: { body: { required: true, content: { 'application/json': { schema: PreviewBody } } } },
  responses: {
    200: { description: 'The draft', content: { 'application/json': { schema: PreviewResult } } },
    ...problemResponses,
    402: problemContent('OpenAI has no quota left (openai_insufficient_quota)'),
    404: problemContent('No such sender or lead (sender_not_found, lead_not_found)'),
    422: problemContent('The AI wrote no usable draft twice (draft_rejected)'),
    502: problemContent('OpenAI rejected the key or the model (openai_unauthorized, …)'),
    503: problemContent('OpenAI is not configured (openai_not_configured)'),
  },
});

function openAIProblem(err: unknown): unknown {
  if (err instanceof OpenAIProviderError) {
    return problem(err.httpStatus, err.code, err.message, err.retryAfterMs ? { retryAfter: Math.ceil(err.retryAfterMs / 1000) } : undefined);
  }
  return err;
}

export function composeRoutes(deps: AppDeps) {
  const composer = new Composer({
    config: deps.config,
    db: deps.db,
    logger: deps.logger,
    openai: deps.openai,
    firecrawl: deps.firecrawl,
    resolveHost: deps.resolveHost,
  });
  return createRouter()
    .openapi(composeRoute, async (c) => {
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
        throw openAIProblem(err);
      }
    })
    .openapi(previewRoute, async (c) => {
      const body = c.req.valid('json');
      let result;
      try {
        result = await composer.preview({
          sender: body.sender,
          lead: body.leadId !== undefined ? { id: body.leadId } : body.lead!,
          ...(body.profile ? { profile: body.profile } : {}),
          baseUrl: publicBaseUrl(deps.config, c.req.url),
        });
      } catch (err) {
        throw openAIProblem(err);
      }
      if ('code' in result) {
        throw problem(result.code === 'lead_not_found' ? 404 : 422, result.code, result.detail);
      }
      return c.json(result, 200);
    });
}
