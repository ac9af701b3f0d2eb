import { z } from '@hono/zod-openapi';

/** The largest value of Postgres' bigint, the type of every row id. */
export const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** Why `value` is not a row id, in one sentence; undefined when it is one. */
function idTextProblem(value: string, what: string): string | undefined {
  if (!/^[0-9]+$/.test(value) || /^0/.test(value)) return `must be a ${what} id: digits from 1, such as "42"`;
  if (BigInt(value) > MAX_BIGINT) return `is too large for a ${what} id (at most ${MAX_BIGINT})`;
  return undefined;
}

/**
 * A bigint row id as text ("42"): digits only, within Postgres' bigint, so it
 * never reaches SQL as an overflow. One message per wrong id, whatever is wrong.
 */
export function bigintIdSchema(what: string) {
  return z
    .string()
    .superRefine((value, ctx) => {
      const message = idTextProblem(value, what);
      if (message) ctx.addIssue({ code: 'custom', message });
    })
    .openapi({ pattern: '^[1-9][0-9]{0,18}$', example: '42' });
}

/**
 * A row id in a request body, as text ("42") or as a JSON number (42), as
 * n8n expressions hand them over; always text afterwards. A number past
 * 2^53 - 1 is not exact once parsed, so it must come as text.
 */
export function bigintIdInputSchema(what: string) {
  return z
    .union([z.string(), z.number()])
    .transform((value, ctx) => {
      const text = typeof value === 'number' ? numberIdText(value, what, ctx) : value.trim();
      if (text === undefined) return z.NEVER;
      const message = idTextProblem(text, what);
      if (message) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return text;
    })
    .openapi({
      type: 'string',
      pattern: '^[1-9][0-9]{0,18}$',
      example: '42',
      description: `A ${what} id: text, or a JSON number up to ${Number.MAX_SAFE_INTEGER}`,
    });
}

function numberIdText(value: number, what: string, ctx: z.RefinementCtx): string | undefined {
  if (!Number.isInteger(value) || value < 1) {
    ctx.addIssue({ code: 'custom', message: `must be a ${what} id: a whole number from 1, such as 42` });
    return undefined;
  }
  if (!Number.isSafeInteger(value)) {
    ctx.addIssue({
      code: 'custom',
      message:
        BigInt(value) > MAX_BIGINT
          ? `is too large for a ${what} id (at most ${MAX_BIGINT})`
          : `is past ${Number.MAX_SAFE_INTEGER}, where a JSON number is no longer exact: send this ${what} id as text ("…")`,
    });
    return undefined;
  }
  return String(value);
}
