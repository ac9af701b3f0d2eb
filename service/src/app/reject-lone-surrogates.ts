import type { MiddlewareHandler } from 'hono';
import { problem } from './problems';

// A lone UTF-16 surrogate ("\ud800" with no partner) is valid JSON but not
// Unicode text: JSON.parse takes it, Postgres's json/jsonb refuse it, deep inside
// a SQL function, as a 500. It is bad input, so it is refused up front as one
// (nothing reaches the database). In an import each lead is judged on its own
// (see validateLeads), so text inside `leads[i]` is left to it.

/** A \uD800–\uDFFF escape: only bodies with one need a closer look (emoji sent as escapes do too). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** A high surrogate without its low one after it, or a low one without its high one before it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const wellFormed = (text: string) => !LONE_SURROGATE.test(text);

/** The path of the first string or key in `value` that is not well-formed Unicode. */
export function illFormedTextPath(
  value: unknown,
  skip: (path: (string | number)[]) => boolean = () => false,
  path: (string | number)[] = [],
): string | undefined {
  if (skip(path)) return undefined;
  if (typeof value === 'string') return wellFormed(value) ? undefined : path.join('.') || '(body)';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = illFormedTextPath(value[i], skip, [...path, i]);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (!wellFormed(key)) return [...path, key.replace(LONE_SURROGATE, '\uFFFD')].join('.');
      const found = illFormedTextPath(v, skip, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

export const LONE_SURROGATE_MESSAGE = 'must be Unicode text (it holds a lone UTF-16 surrogate)';

/** The import's leads (`leads.<i>`): each one is judged on its own by the import. */
export const importedLead = (path: (string | number)[]) =>
  path.length === 2 && path[0] === 'leads' && typeof path[1] === 'number';

/** Refuses a JSON body with a lone surrogate anywhere except under the paths `skip` names. */
export const rejectLoneSurrogates = (skip?: (path: (string | number)[]) => boolean): MiddlewareHandler => async (c, next) => {
  if (c.req.raw.body && /json/i.test(c.req.header('content-type') ?? '')) {
    const text = await c.req.text();
    if (SURROGATE_ESCAPE.test(text)) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the route's validation answers malformed_json
      }
      const where = illFormedTextPath(body, skip);
      if (where) {
        throw problem(400, 'validation_failed', `The request is invalid: ${where}: ${LONE_SURROGATE_MESSAGE}.`, {
          errors: [{ path: where, message: LONE_SURROGATE_MESSAGE }],
        });
      }
    }
  }
  await next();
};
