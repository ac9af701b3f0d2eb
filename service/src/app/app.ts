import { createHash, timingSafeEqual } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { apolloRoutes } from '../apollo/apollo.routes';
import { batchesRoutes } from '../batches/batches.routes';
import { catalogRoutes } from '../catalog/catalog.routes';
import { composeRoutes } from '../compose/compose.routes';
import { DatabaseError } from '../db/database';
import { eventsRoutes } from '../events/events.routes';
import { gateRoutes } from '../gate/gate.routes';
import { healthRoutes } from '../health/health.routes';
import { inboundRoutes } from '../inbound/inbound.routes';
import { leadsRoutes } from '../leads/leads.routes';
import { SecretKeyError } from '../secrets/secret-box';
import { senderProfileRoutes } from '../sender-profile/sender-profile.routes';
import { poolsRoutes } from '../pools/pools.routes';
import { sendersRoutes } from '../senders/senders.routes';
import { sequencesRoutes } from '../sequences/sequences.routes';
import { clockRoutes } from '../clock/clock.routes';
import { sendsRoutes } from '../sends/sends.routes';
import { statsRoutes } from '../stats/stats.routes';
import { docsRoutes } from '../status/docs.routes';
import { statusRoutes } from '../status/status.routes';
import { suppressionsRoutes } from '../suppressions/suppressions.routes';
import { unsubscribeRoutes } from '../unsubscribe/unsubscribe.routes';
import { webhooksRoutes } from '../webhooks/webhooks.routes';
import type { AppDeps } from './deps';
import { domainProblem } from './domain-problems';
import { problem, problemResponse, ProblemError } from './problems';
import { importedLead, rejectLoneSurrogates } from './reject-lone-surrogates';
import { rejectNul } from './reject-nul';
import { createRouter, type AppEnv } from './router';

// The service's HTTP app: the middleware every request goes through, the list
// of routes, /openapi.json and the one place errors become problems.

/**
 * Every capability's routes, in the order they are matched. A new capability
 * adds one line here (and its import).
 */
const ROUTES: ((deps: AppDeps) => OpenAPIHono<AppEnv>)[] = [
  gateRoutes,
  healthRoutes,
  leadsRoutes,
  sendersRoutes,
  sequencesRoutes,
  senderProfileRoutes,
  statsRoutes,
  batchesRoutes,
  poolsRoutes,
  sendsRoutes,
  eventsRoutes,
  suppressionsRoutes,
  unsubscribeRoutes,
  apolloRoutes,
  catalogRoutes,
  composeRoutes,
  statusRoutes,
  docsRoutes,
  inboundRoutes,
  webhooksRoutes,
];

export const IMPORT_PATH = '/v1/leads/import';
export const INBOUND_PATH = '/v1/inbound';

/** Seconds a client should wait before sending a request the database could not serve. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

export function createApp(deps: AppDeps) {
  const app = createRouter();
  const { logger, config } = deps;

  app.use('*', requestId());

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    logger.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });

  // The rest of a body over the limit is never read: the connection cannot carry
  // another request, so the answer says so and the client opens a new one
  // (the server drops the socket once it stops reading).
  const tooLarge = (limit: number) => (c: Context) => {
    c.header('Connection', 'close');
    throw problem(413, 'payload_too_large', `The request body is larger than ${limit} bytes.`);
  };
  const defaultBodyLimit = bodyLimit({ maxSize: config.bodyLimitBytes, onError: tooLarge(config.bodyLimitBytes) });
  const importBodyLimit = bodyLimit({
    maxSize: config.importBodyLimitBytes,
    onError: tooLarge(config.importBodyLimitBytes),
  });
  const inboundBodyLimit = bodyLimit({
    maxSize: config.inboundBodyLimitBytes,
    onError: tooLarge(config.inboundBodyLimitBytes),
  });
  app.use('*', (c, next) =>
    c.req.path === IMPORT_PATH
      ? importBodyLimit(c, next)
      : c.req.path === INBOUND_PATH
        ? inboundBodyLimit(c, next)
        : defaultBodyLimit(c, next),
  );

  const expectedKey = sha256(deps.apiKey);
  app.use('/v1/*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m || !timingSafeEqual(sha256(m[1]!.trim()), expectedKey)) {
      throw problem(
        401,
        'unauthorized',
        m
          ? `The API key is wrong. Use ${deps.apiKeySource ?? 'the COROFY_API_KEY the service runs with'}.`
          : 'Send the API key as "Authorization: Bearer <COROFY_API_KEY>".',
      );
    }
    await next();
  });
  app.use('/v1/*', rejectNul);
  const rejectInImport = rejectLoneSurrogates(importedLead);
  const rejectInBody = rejectLoneSurrogates();
  app.use('/v1/*', (c, next) => (c.req.path === IMPORT_PATH ? rejectInImport(c, next) : rejectInBody(c, next)));

  for (const routes of ROUTES) app.route('/', routes(deps));
  // sandbox mode only: tests and demos move the service's clock
  if (deps.config.clock.movable) app.route('/', clockRoutes(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Corofy API', version: '1.0.0', description: 'The Corofy service: see API.md.' },
    security: [{ bearerAuth: [] }],
  });

  app.notFound((c) => problemResponse(c, problem(404, 'not_found', `No route for ${c.req.method} ${c.req.path}.`)));

  app.onError((err, c) => {
    if (err instanceof ProblemError) return problemResponse(c, err);
    if (err instanceof SecretKeyError) {
      return problemResponse(c, problem(503, 'secret_key_mismatch', `${err.message} (COROFY_SECRET_KEY)`));
    }
    if (err instanceof DatabaseError && (err.timedOut || err.connectionFailed || err.rolledBackByConflict)) {
      logger.warn({ requestId: c.get('requestId'), sqlState: err.sqlState, error: err.message }, 'database unavailable');
      // a passing condition (a restart, a failover): Retry-After tells clients that
      // trying again is right, and when (the nodes repeat only what is safe to repeat)
      c.header('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      return problemResponse(
        c,
        err.rolledBackByConflict
          ? problem(503, 'database_conflict', 'The database rolled this request back, again and again, to break a conflict with other requests: nothing of it happened. Try again.')
          : err.timedOut
          ? problem(503, 'database_timeout', 'The database did not answer this request in time (DATABASE_QUERY_TIMEOUT_MS). Try again (a claim sent again with its idempotencyKey returns its batch if it was made).')
          : problem(503, 'database_unavailable', 'The connection to the database failed during this request. Try again (a claim sent again with its idempotencyKey returns its batch if it was made).'),
      );
    }
    const domain = err instanceof DatabaseError ? domainProblem(err) : undefined;
    if (domain) return problemResponse(c, domain);
    if (err instanceof HTTPException && err.status < 500) {
      const code =
        err.status === 415 ? 'unsupported_media_type' : /json/i.test(err.message) ? 'malformed_json' : 'bad_request';
      const detail =
        code === 'unsupported_media_type'
          ? 'Send the body as JSON with "Content-Type: application/json".'
          : code === 'malformed_json'
            ? 'The request body is not valid JSON.'
            : err.message;
      return problemResponse(c, problem(err.status as ProblemError['status'], code, detail));
    }
    logger.error({ requestId: c.get('requestId'), err }, 'unhandled error');
    return problemResponse(
      c,
      problem(500, 'internal_error', `Something went wrong on our side (request ${c.get('requestId')}).`),
    );
  });

  return app;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
