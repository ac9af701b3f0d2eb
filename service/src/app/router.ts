import { OpenAPIHono, type Hook } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { problem } from './problems';

// The router factory every capability's routes are built with. It lives apart
// from app.ts (which imports every capability's routes) so that no routes file
// imports the app back: the dependency runs one way, app → routes → router.

export interface AppEnv extends Env {
  Variables: { requestId: string };
}

/** Turns a failed zod validation into a `validation_failed` problem listing the fields. */
const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (!result.success) {
    const errors = result.error.issues.map((i) => ({
      path: i.path.length > 0 ? i.path.join('.') : '(body)',
      message: i.message,
    }));
    throw problem(
      400,
      'validation_failed',
      `The request is invalid: ${errors
        .slice(0, 5)
        .map((e) => `${e.path}: ${e.message}`)
        .join('; ')}${errors.length > 5 ? ` (and ${errors.length - 5} more)` : ''}.`,
      { errors },
    );
  }
};

/** A router for one capability; validation errors become problems. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
