import { z } from '@hono/zod-openapi';

// What compose answers, defined once: the routes document and validate with
// these schemas and compose.ts builds values of the types inferred from them.

export const TokensSchema = z.object({ prompt: z.number().int(), completion: z.number().int(), total: z.number().int() }).openapi('Tokens');

export const WebsiteOutcomeSchema = z
  .object({
    url: z.string().optional(),
    outcome: z.enum(['cached', 'scraped', 'empty', 'refused', 'failed']).openapi({
      description: 'cached / scraped: content used; empty: nothing usable; refused: the SSRF guard said no; failed: Firecrawl failed',
    }),
    detail: z.string().optional(),
  })
  .openapi({ description: 'What happened with the company website (only when it was looked at).' });

export const ComposedEmailSchema = z
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

export const ComposeFailureSchema = z.object({ leadId: z.string(), code: z.string(), detail: z.string() });

export const ComposeResultSchema = z
  .object({
    emails: z.array(ComposedEmailSchema),
    failed: z.array(ComposeFailureSchema),
  })
  .openapi('ComposeResult');

export const PreviewResultSchema = z
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

export type DraftTokens = z.infer<typeof TokensSchema>;
export type WebsiteOutcome = z.infer<typeof WebsiteOutcomeSchema>;
export type ComposedEmail = z.infer<typeof ComposedEmailSchema>;
export type ComposeFailure = z.infer<typeof ComposeFailureSchema>;
export type ComposeResult = z.infer<typeof ComposeResultSchema>;
export type PreviewResult = z.infer<typeof PreviewResultSchema>;
