import { z } from '@hono/zod-openapi';

const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** A bigint row id as text ("42"): digits only, within Postgres' bigint, so it never reaches SQL as an overflow. */
export function bigintIdSchema(what: string) {
  return z
    .string()
    .regex(/^[1-9][0-9]{0,18}$/, `must be a ${what} id (digits)`)
    // zod runs every check, so this one must cope with input the regex already refused
    .refine((v) => !/^\d+$/.test(v) || BigInt(v) <= MAX_BIGINT, `must be a ${what} id (at most ${MAX_BIGINT})`);
}
