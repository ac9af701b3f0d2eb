import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';

// RFC 9457 problem documents. `code` is the stable identifier clients switch on;
// `detail` is a sentence a person can act on.

export interface ProblemFieldError {
  path: string;
  message: string;
}

export class ProblemError extends Error {
  override name = 'ProblemError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    /** Extra members of the problem document (e.g. `errors`, `retryAfter`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    code: z.string().openapi({ example: 'validation_failed' }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .openapi('Problem');

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  402: 'Payment required',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

export function titleFor(status: number): string {
  return TITLES[status] ?? 'Error';
}

export function problemResponse(c: Context, p: ProblemError): Response {
  const body = {
    type: `https://corofy.dev/problems/${p.code.replace(/_/g, '-')}`,
    title: p.title,
    status: p.status,
    ...(p.detail ? { detail: p.detail } : {}),
    code: p.code,
    ...p.extra,
  };
  return c.body(JSON.stringify(body), p.status, { 'Content-Type': 'application/problem+json' });
}

export function problem(
  status: ContentfulStatusCode,
  code: string,
  detail?: string,
  extra?: Record<string, unknown>,
): ProblemError {
  return new ProblemError(status, code, titleFor(status), detail, extra);
}

/** The `responses` entries every route shares, for the OpenAPI document. */
export const problemResponses = {
  400: { description: 'Invalid input', content: { 'application/problem+json': { schema: ProblemSchema } } },
  401: { description: 'Missing or wrong API key', content: { 'application/problem+json': { schema: ProblemSchema } } },
} as const;

export function problemContent(description: string) {
  return { description, content: { 'application/problem+json': { schema: ProblemSchema } } };
}
