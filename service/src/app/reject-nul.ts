import type { MiddlewareHandler } from 'hono';
import { problem } from './problems';

// Postgres text cannot hold the NUL character: a "\u0000" anywhere in a body,
// a query or a path would fail deep inside a SQL function as a 500. It is bad
// input, so it is refused up front as one (nothing reaches the database).

/** A JSON "\u0000" escape that is not itself an escaped backslash followed by "u0000". */
const JSON_NUL = /(?<!\\)(?:\\\\)*\\u0000/;

export const rejectNul: MiddlewareHandler = async (c, next) => {
  let where: string | undefined;
  if (/%00/.test(c.req.url)) where = '(url)';
  else if (c.req.raw.body && /json/i.test(c.req.header('content-type') ?? '') && JSON_NUL.test(await c.req.text())) {
    where = '(body)';
  }
  if (where) {
    const message = 'must not contain the NUL character (\\u0000)';
    throw problem(400, 'validation_failed', `The request is invalid: ${where}: ${message}.`, {
      errors: [{ path: where, message }],
    });
  }
  await next();
};
