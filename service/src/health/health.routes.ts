import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problem, problemContent } from '../app/problems';
import { checkSchema, listMigrations, SchemaError } from '../db/migrations';
import { PROVIDER_STATES, providerStates } from './providers';

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  security: [],
  summary: 'The process is running',
  responses: {
    200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } },
  },
});

const ReadySchema = z
  .object({
    status: z.literal('ready'),
    database: z.enum(['pglite', 'postgres', 'supabase']),
    schemaVersion: z.string(),
    providers: z
      .object({ apollo: z.enum(PROVIDER_STATES), openai: z.enum(PROVIDER_STATES), firecrawl: z.enum(PROVIDER_STATES) })
      .openapi({ description: 'Per provider: a real account (configured), the local fakes (sandbox), or none (missing)' }),
  })
  .openapi('Ready');

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['health'],
  security: [],
  summary: 'The database is reachable and its schema is current',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: ReadySchema } } },
    503: problemContent('The database is unreachable, behind, or its applied migrations were edited'),
  },
});

export function healthRoutes(deps: AppDeps) {
  const migrations = listMigrations();
  const providers = providerStates(deps.config);
  return createRouter()
    .openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(readyz, async (c) => {
      try {
        const schemaVersion = await checkSchema(deps.db, migrations);
        return c.json({ status: 'ready' as const, database: deps.db.kind, schemaVersion, providers }, 200);
      } catch (err) {
        if (err instanceof SchemaError) throw problem(503, err.code, err.message);
        deps.logger.warn({ err: (err as Error).message }, 'readiness check failed');
        throw problem(503, 'database_unavailable', 'The database does not answer.');
      }
    });
}
