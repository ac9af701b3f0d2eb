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

interface Visit {
  value: unknown;
  key?: string | number;
  parent?: Visit;
  depth: number;
}

function pathOf(visit: Visit): (string | number)[] {
  const path: (string | number)[] = [];
  for (let v: Visit | undefined = visit; v?.key !== undefined; v = v.parent) path.push(v.key);
  return path.reverse();
}

/** How deep `skip` looks: it names paths near the top of a body. */
const SKIP_DEPTH = 4;

/**
 * The path of the first string or key in `value` that is not well-formed
 * Unicode. Iterative and linear (paths are built only for the answer): a
 * hostile body nests arrays deeper than the call stack.
 */
export function illFormedTextPath(
  value: unknown,
  skip: (path: (string | number)[]) => boolean = () => false,
): string | undefined {
  const pending: Visit[] = [{ value, depth: 0 }];
  const where = (visit: Visit, key?: string) => [...pathOf(visit), ...(key === undefined ? [] : [key])].join('.') || '(body)';
  while (pending.length > 0) {
    const visit = pending.pop()!;
    const v = visit.value;
    if (visit.depth <= SKIP_DEPTH && skip(pathOf(visit))) continue;
    if (typeof v === 'string') {
      if (!wellFormed(v)) return where(visit);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) pending.push({ value: v[i], key: i, parent: visit, depth: visit.depth + 1 });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (const [key] of entries) if (!wellFormed(key)) return where(visit, key.replace(LONE_SURROGATE, '\uFFFD'));
      for (let i = entries.length - 1; i >= 0; i--) {
        pending.push({ value: entries[i]![1], key: entries[i]![0], parent: visit, depth: visit.depth + 1 });
      }
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
