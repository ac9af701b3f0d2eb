import { z } from '@hono/zod-openapi';
import { LeadSchema } from '../leads/lead-input';

// What a search answers, defined once: the routes document it with these
// schemas, apollo-search.ts builds values of the types inferred from them.

export const SearchRecordSchema = z
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

export const SearchResultSchema = SearchRecordSchema.extend({
  leads: z.array(LeadSchema).openapi({ description: 'The leads added, in sequence order.' }),
}).openapi('ApolloSearchResult');

export type ApolloSearchRecord = z.infer<typeof SearchRecordSchema>;
export type ApolloSearchResult = z.infer<typeof SearchResultSchema>;
