import { z } from '@hono/zod-openapi';

// Schemas several capabilities share, defined once (a capability's own shapes
// stay beside its routes).

/** A sender's id, as the senders table checks it. */
export const SenderIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be 1-63 lower-case letters, digits, ".", "_" or "-"');

/** A bare host name: "https://www.Acme.com/about" → "acme.com". */
export function normalizeDomain(input: string): string | undefined {
  let host = input.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/[/?#].*$/, '').replace(/:\d+$/, '');
  host = host.replace(/^www\./, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host) ? host : undefined;
}

/** A company's domain in a request, normalised to its bare host name ("https://www.Acme.com/x" → "acme.com"). */
export const DomainSchema = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .transform((v, ctx) => {
    const domain = normalizeDomain(v);
    if (!domain) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a domain name` });
      return z.NEVER;
    }
    return domain;
  })
  .openapi({ type: 'string', example: 'acme.com' });
