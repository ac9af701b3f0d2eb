import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { bigintIdInputSchema } from '../app/ids';
import { problem, problemContent, problemResponses } from '../app/problems';
import { LeadInputSchema } from '../leads/lead-input';
import { SenderProfileUpdateSchema } from '../sender-profile/sender-profile.routes';
import { OpenAIProviderError } from '../providers/openai-client';
import { SenderIdSchema } from '../app/schemas';
import { publicBaseUrl } from '../unsubscribe/footer';
import { Composer } from './compose';
import { ComposeResultSchema, PreviewResultSchema } from './compose-schema';

const leadId = bigintIdInputSchema('lead');

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

const composeRoute = createRoute({
  method: 'post',
  path: '/v1/compose',
  tags: ['compose'],
  summary: 'Compose the email of each lead (catalog, then website, then generic)',
  request: { body: { required: true, content: { 'application/json': { schema: ComposeBody } } } },
  responses: {
    200: { description: 'Composed emails and per-lead failures', content: { 'application/json': { schema: ComposeResultSchema } } },
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

const previewRoute = createRoute({
  method: 'post',
  path: '/v1/compose/preview',
  tags: ['compose'],
  summary: 'The email a lead would get now, with its cost: stores nothing, claims nothing',
  request: { body: { required: true, content: { 'application/json': { schema: PreviewBody } } } },
  responses: {
    200: { description: 'The draft', content: { 'application/json': { schema: PreviewResultSchema } } },
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
