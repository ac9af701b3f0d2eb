import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemContent, problemResponses } from '../app/problems';
import { SenderIdSchema } from '../app/schemas';
import { TEMPLATE_FIELDS, templateFieldsIn } from './template';

// A sender's follow-up sequence: step 1 (the first email) and the follow-ups,
// each after a delay in the recipient's business days, written by the AI from
// the step's instruction or filled in from a fixed template.

export const MAX_SEQUENCE_STEPS = 10;

const TemplateSchema = z
  .object({
    subject: z.string().trim().min(1).max(200).optional().openapi({
      description: 'Step 1 only (a follow-up is always "Re: <step 1 subject>")',
    }),
    text: z.string().trim().min(1).max(5000).openapi({
      description: `The email's body; fields in double braces: ${TEMPLATE_FIELDS.map((f) => `{{${f}}}`).join(', ')}`,
      example: 'Hi {{firstName}},\n\njust bringing my note about {{companyName}} back to the top of your inbox.',
    }),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const [key, value] of Object.entries(t)) {
      const unknown = templateFieldsIn(value ?? '').filter((f) => !(TEMPLATE_FIELDS as readonly string[]).includes(f));
      if (unknown.length > 0) {
        ctx.addIssue({ code: 'custom', path: [key], message: `unknown field ${unknown.map((f) => `{{${f}}}`).join(', ')}; known: ${TEMPLATE_FIELDS.join(', ')}` });
      }
    }
  });

const StepInputSchema = z
  .object({
    delayBusinessDays: z.number().int().min(0).max(60).openapi({
      description: "Business days (the sender's window days, on the recipient's calendar) after the previous step was sent; 0 for step 1",
      example: 3,
    }),
    mode: z.enum(['ai', 'template']).default('ai'),
    instruction: z.string().trim().min(1).max(1000).nullable().optional().openapi({
      description: 'For mode "ai": what this step should do ("a short bump", "a different angle: …", "a break-up email")',
    }),
    template: TemplateSchema.nullable().optional(),
  })
  .strict();

const SequenceInputSchema = z
  .object({
    steps: z.array(StepInputSchema).min(1).max(MAX_SEQUENCE_STEPS),
    stopForCompany: z.boolean().optional().openapi({
      description: "A reply from anyone at a lead's company domain stops the company's other leads (default true)",
    }),
  })
  .strict()
  .superRefine((s, ctx) => {
    s.steps.forEach((step, i) => {
      if (i === 0 && step.delayBusinessDays !== 0) {
        ctx.addIssue({ code: 'custom', path: ['steps', 0, 'delayBusinessDays'], message: 'step 1 goes out when claimed: its delay is 0' });
      }
      if (i > 0 && step.delayBusinessDays < 1) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'delayBusinessDays'], message: 'a follow-up waits at least 1 business day' });
      }
      if (step.mode === 'template' && !step.template) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'template'], message: 'mode "template" needs a template' });
      }
      if (step.mode === 'ai' && step.template) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'template'], message: 'mode "ai" takes an instruction, not a template' });
      }
      if (i > 0 && step.template?.subject !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'template', 'subject'], message: 'a follow-up\'s subject is always "Re: <step 1 subject>"' });
      }
    });
  })
  .openapi('SequenceUpdate');

const StepSchema = z.object({
  step: z.number().int().min(1),
  delayBusinessDays: z.number().int(),
  mode: z.enum(['ai', 'template']),
  instruction: z.string().nullable(),
  template: z.object({ subject: z.string().optional(), text: z.string() }).nullable(),
});

export const SequenceSchema = z
  .object({
    sender: z.string(),
    steps: z.array(StepSchema),
    stopForCompany: z.boolean(),
    isDefault: z.boolean().openapi({ description: 'The sender never set one: step 1, follow-ups after 3 and 5 business days' }),
    updatedAt: z.string().nullable(),
  })
  .openapi('Sequence');

export type Sequence = z.infer<typeof SequenceSchema>;

const idParam = z.object({ id: SenderIdSchema });

const getSequence = createRoute({
  method: 'get',
  path: '/v1/senders/{id}/sequence',
  tags: ['senders'],
  summary: "A sender's follow-up sequence (the default one until it is set)",
  request: { params: idParam },
  responses: {
    200: { description: 'The sequence', content: { 'application/json': { schema: SequenceSchema } } },
    ...problemResponses,
    404: problemContent('No such sender'),
  },
});

const putSequence = createRoute({
  method: 'put',
  path: '/v1/senders/{id}/sequence',
  tags: ['senders'],
  summary: "Replace a sender's follow-up sequence (leads already in it follow the new steps from their next step)",
  request: {
    params: idParam,
    body: { required: true, content: { 'application/json': { schema: SequenceInputSchema } } },
  },
  responses: {
    200: { description: 'The sequence as stored', content: { 'application/json': { schema: SequenceSchema } } },
    ...problemResponses,
    404: problemContent('No such sender'),
  },
});

export function sequencesRoutes({ db, config }: AppDeps) {
  return createRouter()
    .openapi(getSequence, async (c) =>
      c.json(await db.call<Sequence>('get_sequence', { p_sender: c.req.valid('param').id }, { repeatable: true }), 200),
    )
    .openapi(putSequence, async (c) => {
      const sequence = await db.call<Sequence>('put_sequence', {
        p_sender: c.req.valid('param').id,
        p_sequence: c.req.valid('json'),
        p_now: config.clock.now(),
      });
      return c.json(sequence, 200);
    });
}
