import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problem, problemContent, problemResponses } from '../app/problems';
import { LeadSchema } from '../leads/lead-input';
import { DomainSchema } from '../app/schemas';
import { ApolloSearchBusy, ApolloSearchFailed, runApolloSearch, type ApolloSearchRecord } from './apollo-search';

/** When to ask again for a search that is still running under the same key. */
const BUSY_RETRY_AFTER_SECONDS = 5;

const term = z.string().trim().min(1).max(200);
const terms = z.array(term).min(1).max(100);

const FiltersSchema = z
  .object({
    personTitles: terms.optional().openapi({ example: ['purchasing manager', 'head of procurement'] }),
    personLocations: terms.optional().openapi({ example: ['Germany', 'Texas, US'] }),
    personSeniorities: terms.optional().openapi({ example: ['manager', 'director'] }),
    organizationLocations: terms.optional(),
    organizationNumEmployeesRanges: z
      .array(z.string().trim().regex(/^\d+,\d*$/, 'must look like "11,50"'))
      .min(1)
      .max(20)
      .optional(),
    qKeywords: z.string().trim().min(1).max(500).optional().openapi({ example: 'lubricants' }),
    qOrganizationDomains: z
      .array(DomainSchema)
      .min(1)
      .max(1000)
      .optional(),
  })
  .strict()
  .openapi('ApolloFilters');

const SearchBody = z
  .object({
    leadsWanted: z.number().int().min(1).max(10_000).openapi({ example: 400 }),
    filters: FiltersSchema.optional().default({}),
    idempotencyKey: z.string().trim().min(1).max(200).optional().openapi({
      description:
        'The same key is the same search, paid for once: sent again, a completed search answers with its record and leads, ' +
        'a stopped one goes on for the leads it still lacks, a running one answers 503 apollo_search_running with Retry-After.',
    }),
  })
  .strict()
  .openapi('ApolloSearchRequest');

const SearchRecordSchema = z
  .object({
    searchId: z.string(),
    filters: z.record(z.string(), z.unknown()),
    leadsWanted: z.number().int(),
    leadsAdded: z.number().int(),
    duplicatesSkipped: z.number().int().openapi({ description: 'People we already had (by Apollo id before paying, by email after).' }),
    suppressedSkipped: z.number().int().openapi({ description: 'Revealed addresses or domains on the suppression list.' }),
    noEmailSkipped: z.number().int().openapi({ description: 'People Apollo had no email for (not charged).' }),
    creditsUsed: z.number().int(),
    matchesRequested: z.number().int().openapi({ description: 'People sent to bulk_match.' }),
    matchCalls: z.number().int(),
    pagesFetched: z.number().int(),
    totalEntries: z.number().int().optional(),
    exhausted: z.boolean().openapi({ description: 'Apollo has no more matches for these filters.' }),
    status: z.enum(['running', 'completed', 'failed']),
    errorCode: z.string().optional(),
    errorDetail: z.string().optional(),
    createdAt: z.string(),
    finishedAt: z.string().optional(),
  })
  .openapi('ApolloSearch');

const SearchResultSchema = SearchRecordSchema.extend({
  leads: z.array(LeadSchema).openapi({ description: 'The leads added, in sequence order.' }),
}).openapi('ApolloSearchResult');

const createSearch = createRoute({
  method: 'post',
  path: '/v1/searches',
  tags: ['apollo'],
  summary: 'Source leads from Apollo, paying only for the leads still needed',
  request: { body: { required: true, content: { 'application/json': { schema: SearchBody } } } },
  responses: {
    201: { description: 'The search and the leads it added', content: { 'application/json': { schema: SearchResultSchema } } },
    ...problemResponses,
    402: problemContent('apollo_insufficient_credits: Apollo has no credits left (the leads already paid for are kept)'),
    403: problemContent('apollo_forbidden: the Apollo key or plan may not use the API'),
    422: problemContent('apollo_invalid_request: Apollo rejected the search as invalid'),
    429: problemContent('apollo_rate_limited: try again after retryAfter seconds'),
    502: problemContent('apollo_unauthorized (Apollo rejected the key) or apollo_unavailable'),
    503: problemContent('apollo_not_configured; apollo_search_running (the same idempotency key is still running; Retry-After)'),
  },
});

const getSearch = createRoute({
  method: 'get',
  path: '/v1/searches/{id}',
  tags: ['apollo'],
  summary: 'One recorded Apollo search (also the failed ones)',
  request: { params: z.object({ id: z.uuid({ message: 'must be a search id (uuid)' }) }) },
  responses: {
    200: { description: 'The search', content: { 'application/json': { schema: SearchRecordSchema } } },
    ...problemResponses,
    404: problemContent('No such search'),
  },
});

const listSearches = createRoute({
  method: 'get',
  path: '/v1/searches',
  tags: ['apollo'],
  summary: 'The latest Apollo searches, newest first',
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(500).optional().default(50) }) },
  responses: {
    200: {
      description: 'The searches',
      content: { 'application/json': { schema: z.object({ searches: z.array(SearchRecordSchema) }) } },
    },
    ...problemResponses,
  },
});

export function apolloRoutes({ db, apollo, logger }: AppDeps) {
  return createRouter()
    .openapi(createSearch, async (c) => {
      const { leadsWanted, filters, idempotencyKey } = c.req.valid('json');
      try {
        const result = await runApolloSearch({ db, apollo, logger }, { leadsWanted, filters, idempotencyKey });
        return c.json(result, 201);
      } catch (err) {
        if (err instanceof ApolloSearchBusy) {
          c.header('Retry-After', String(BUSY_RETRY_AFTER_SECONDS));
          throw problem(
            503,
            'apollo_search_running',
            'A search with this idempotency key is still running; send the request again shortly for its result.',
            { searchId: err.searchId },
          );
        }
        if (err instanceof ApolloSearchFailed) {
          const { error, record } = err;
          if (error.retryAfter !== undefined) c.header('Retry-After', String(error.retryAfter));
          throw problem(error.status, error.code, error.detail, {
            ...(error.retryAfter !== undefined ? { retryAfter: error.retryAfter } : {}),
            searchId: record.searchId,
            leadsAdded: record.leadsAdded,
            creditsUsed: record.creditsUsed,
          });
        }
        throw err;
      }
    })
    .openapi(getSearch, async (c) =>
      c.json(await db.call<ApolloSearchRecord>('get_apollo_search', { p_id: c.req.valid('param').id }), 200),
    )
    .openapi(listSearches, async (c) =>
      c.json(
        { searches: await db.call<ApolloSearchRecord[]>('list_apollo_searches', { p_limit: c.req.valid('query').limit }) },
        200,
      ),
    );
}

