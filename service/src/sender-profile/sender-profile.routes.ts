import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemContent, problemResponses } from '../app/problems';
import { LANGUAGE_CODES } from '../compose/language';
import { SenderIdSchema } from '../app/schemas';

// Who a sender's emails speak for and how they sound: the company, its voice
// and the language. The system prompt is built from this; the sender 'default'
// is the shared default every other sender inherits field by field.

const LanguageSettingSchema = z.enum(['recipient', ...LANGUAGE_CODES]).openapi({
  description:
    "'recipient': the recipient's language by country (German for DE/AT/CH, French for FR/BE/LU, Spanish for ES/MX/…, English otherwise); or one fixed ISO 639-1 code.",
});

const text = (max: number) => z.string().trim().min(1).max(max);

const ProfileFieldsSchema = z.object({
  companyName: z.string().nullable(),
  offer: z.string().nullable().openapi({ description: 'What the company sells, a paragraph.' }),
  whyCustomersBuy: z.string().nullable(),
  tone: z.string().nullable().openapi({ example: 'plain and friendly' }),
  avoidPhrases: z.array(z.string()).nullable().openapi({ description: 'Phrases the emails never use.' }),
  signature: z.string().nullable().openapi({ description: "Closes every email; null: the language's sign-off and the sender's fromName." }),
  language: z.string().nullable(),
});

const SenderProfileSchema = z
  .object({
    sender: z.string(),
    profile: ProfileFieldsSchema.openapi({ description: "The sender's own fields (null: taken from the sender 'default')." }),
    effective: ProfileFieldsSchema.extend({ avoidPhrases: z.array(z.string()), language: z.string() }).openapi({
      description: 'What compose uses: the own fields over the default.',
    }),
    updatedAt: z.string().nullable(),
  })
  .openapi('SenderProfile');

export const SenderProfileUpdateSchema = z
  .object({
    companyName: text(200).nullable(),
    offer: text(2000).nullable(),
    whyCustomersBuy: text(1000).nullable(),
    tone: text(200).nullable(),
    avoidPhrases: z.array(text(200)).max(50).nullable(),
    signature: text(500).nullable(),
    language: LanguageSettingSchema.nullable(),
  })
  .partial()
  .strict()
  .openapi('SenderProfileUpdate');

type SenderProfile = z.infer<typeof SenderProfileSchema>;

const idParam = z.object({ id: SenderIdSchema });

const getProfile = createRoute({
  method: 'get',
  path: '/v1/senders/{id}/profile',
  tags: ['senders'],
  summary: "The sender's company, voice and language",
  request: { params: idParam },
  responses: {
    200: { description: 'The profile', content: { 'application/json': { schema: SenderProfileSchema } } },
    ...problemResponses,
    404: problemContent('No such sender'),
  },
});

const putProfile = createRoute({
  method: 'put',
  path: '/v1/senders/{id}/profile',
  tags: ['senders'],
  summary: "Set the sender's company, voice and language (absent fields keep their value; null inherits the default's)",
  request: {
    params: idParam,
    body: { required: true, content: { 'application/json': { schema: SenderProfileUpdateSchema } } },
  },
  responses: {
    200: { description: 'The profile as stored', content: { 'application/json': { schema: SenderProfileSchema } } },
    ...problemResponses,
    404: problemContent('No such sender'),
  },
});

export function senderProfileRoutes({ db }: AppDeps) {
  return createRouter()
    .openapi(getProfile, async (c) => c.json(await db.call<SenderProfile>('get_sender_profile', { p_sender: c.req.valid('param').id }), 200))
    .openapi(putProfile, async (c) => {
      const profile = await db.call<SenderProfile>('put_sender_profile', {
        p_sender: c.req.valid('param').id,
        p_profile: c.req.valid('json'),
      });
      return c.json(profile, 200);
    });
}
