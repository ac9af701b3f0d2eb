import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemContent, problemResponses } from '../app/problems';
import { normalizeDomain } from '../app/schemas';

const SuppressionSchema = z
  .object({
    value: z.string(),
    kind: z.enum(['email', 'domain']),
    reason: z.string(),
    createdAt: z.string(),
  })
  .openapi('Suppression');

const SuppressionInput = z
  .object({
    email: z.string().trim().pipe(z.email({ message: 'must be a valid email address' })).optional(),
    domain: z
      .string()
      .trim()
      .max(253)
      .refine((d) => normalizeDomain(d) === d.toLowerCase().replace(/^www\./, ''), 'must be a bare domain such as "acme.com"')
      .optional(),
    reason: z.string().trim().min(1).max(200),
  })
  .strict()
  .refine((s) => (s.email === undefined) !== (s.domain === undefined), {
    message: 'give exactly one of email or domain',
    path: ['email'],
  })
  .openapi('SuppressionInput');

const list = createRoute({
  method: 'get',
  path: '/v1/suppressions',
  tags: ['suppressions'],
  summary: 'Suppressed addresses and domains, in value order (page with `after`)',
  request: {
    query: z.object({
      kind: z.enum(['email', 'domain']).optional(),
      after: z.string().max(254).optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional().default(100),
    }),
  },
  responses: {
    200: {
      description: 'Suppressions',
      content: { 'application/json': { schema: z.object({ suppressions: z.array(SuppressionSchema) }) } },
    },
    ...problemResponses,
  },
});

const add = createRoute({
  method: 'post',
  path: '/v1/suppressions',
  tags: ['suppressions'],
  summary: 'Suppress an address or a whole domain (pending sends to it are cancelled)',
  request: { body: { required: true, content: { 'application/json': { schema: SuppressionInput } } } },
  responses: {
    200: {
      description: 'The suppression',
      content: {
        'application/json': { schema: SuppressionSchema.extend({ cancelledSends: z.number().int() }) },
      },
    },
    ...problemResponses,
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/suppressions/{value}',
  tags: ['suppressions'],
  summary: 'Lift a suppression (the address or domain)',
  request: { params: z.object({ value: z.string().min(1).max(254) }) },
  responses: {
    200: { description: 'The removed suppression', content: { 'application/json': { schema: SuppressionSchema } } },
    ...problemResponses,
    404: problemContent('Not suppressed'),
  },
});

type Suppression = z.infer<typeof SuppressionSchema>;

export function suppressionsRoutes({ db, config }: AppDeps) {
  return createRouter()
    .openapi(list, async (c) => {
      const q = c.req.valid('query');
      const r = await db.call<{ suppressions: Suppression[] }>('list_suppressions', {
        p_kind: q.kind,
        p_after: q.after?.toLowerCase(),
        p_limit: q.limit,
      });
      return c.json(r, 200);
    })
    .openapi(add, async (c) => {
      const { email, domain, reason } = c.req.valid('json');
      const r = await db.call<Suppression & { cancelledSends: number }>('add_suppression', {
        p_value: email ?? normalizeDomain(domain!),
        p_kind: email ? 'email' : 'domain',
        p_reason: reason,
        p_now: config.clock.now(),
      });
      return c.json(r, 200);
    })
    .openapi(remove, async (c) => {
      const r = await db.call<Suppression>('delete_suppression', { p_value: c.req.valid('param').value });
      return c.json(r, 200);
    });
}
