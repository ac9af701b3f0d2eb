// The credit saver. Searching Apollo is free and paying is per revealed email,
// so: page through the search (page size min(still needed, 100)), drop people
// Apollo has no email for and people we already have (by Apollo id, before
// paying), reveal only as many as are still needed (≤ 10 per bulk_match), and
// insert each revealed batch at once in Apollo's order — a failure later on
// keeps what was already paid for. Every search is recorded in apollo_searches.
import type { Logger } from '../app/logger';
import { DatabaseError, type Database } from '../db/database';
import { LeadInputSchema, type Lead } from '../leads/lead-input';
import { withImportedZone } from '../timezone/imported-zone';
import {
  ApolloError,
  MAX_MATCH_BATCH,
  MAX_PAGE,
  MAX_PER_PAGE,
  type ApolloClient,
  type ApolloMatchedPerson,
  type ApolloSearchFilters,
  type ApolloSearchPerson,
} from './apollo-client';

export interface ApolloSearchRecord {
  searchId: string;
  filters: ApolloSearchFilters;
  leadsWanted: number;
  leadsAdded: number;
  duplicatesSkipped: number;
  suppressedSkipped: number;
  noEmailSkipped: number;
  creditsUsed: number;
  matchesRequested: number;
  matchCalls: number;
  pagesFetched: number;
  totalEntries?: number;
  exhausted: boolean;
  status: 'running' | 'completed' | 'failed';
  errorCode?: string;
  errorDetail?: string;
  createdAt: string;
  finishedAt?: string;
}

export interface ApolloSearchResult extends ApolloSearchRecord {
  leads: Lead[];
}

/** A search that failed after it started: the error, and what the record says was kept. */
export class ApolloSearchFailed extends Error {
  override name = 'ApolloSearchFailed';
  constructor(
    readonly error: ApolloError,
    readonly record: ApolloSearchRecord,
  ) {
    super(error.detail);
  }
}

/** A search with this idempotency key is still running (another request of the same caller). */
export class ApolloSearchBusy extends Error {
  override name = 'ApolloSearchBusy';
  constructor(readonly searchId: string) {
    super(`The search ${searchId} with this idempotency key is still running.`);
  }
}

/** How apollo_search_begin found the key: a new search, a finished one, one resumed or still running. */
type Begun = ApolloSearchRecord & { replay?: 'new' | 'completed' | 'resumed' | 'running'; leads?: Lead[] };

/** Pauses between tries to record that a search stopped because the database went away. */
const FINISH_RETRY_MS = [1000, 2000, 4000];

interface Delta {
  pages?: number;
  credits?: number;
  matchesRequested?: number;
  matchCalls?: number;
  noEmail?: number;
  totalEntries?: number;
}

export async function runApolloSearch(
  deps: { db: Database; apollo: ApolloClient | undefined; logger: Logger },
  request: { leadsWanted: number; filters: ApolloSearchFilters; idempotencyKey?: string },
): Promise<ApolloSearchResult> {
  const { db, apollo, logger } = deps;
  const { filters, idempotencyKey } = request;
  const started =
    idempotencyKey === undefined
      ? await db.call<Begun>('apollo_search_start', { p_filters: filters, p_leads_wanted: request.leadsWanted })
      : await db.call<Begun>('apollo_search_begin', {
          p_filters: filters,
          p_leads_wanted: request.leadsWanted,
          p_idempotency_key: idempotencyKey,
        });
  const { replay, leads: earlier, ...startedRecord } = started;
  if (replay === 'running') throw new ApolloSearchBusy(started.searchId);
  if (replay === 'completed') return { ...startedRecord, leads: earlier ?? [] };
  const searchId = started.searchId;
  // a resumed search goes on for what it still lacks, as first asked (the key wins)
  const leadsWanted = started.leadsWanted;
  const leads: Lead[] = [...(earlier ?? [])];
  let exhausted = false;

  const record = async (newLeads: LeadToInsert[], delta: Delta) => {
    const r = await db.call<{ leads: Lead[] }>('apollo_search_record', {
      p_search_id: searchId,
      p_leads: newLeads.map(withImportedZone),
      p_delta: delta,
    });
    leads.push(...r.leads);
  };

  try {
    if (!apollo) {
      throw new ApolloError(
        'apollo_not_configured',
        503,
        'Apollo is not configured: set APOLLO_API_KEY (and APOLLO_BASE_URL for a non-default endpoint).',
      );
    }
    // How many people of Apollo's result list we have looked at, in order.
    let cursor = 0;
    let totalEntries: number | undefined;

    while (leads.length < leadsWanted) {
      let perPage = Math.min(leadsWanted - leads.length, MAX_PER_PAGE);
      let page = Math.floor(cursor / perPage) + 1;
      if (page > MAX_PAGE) {
        // Small pages would run past Apollo's page limit before its 50,000 records.
        perPage = MAX_PER_PAGE;
        page = Math.floor(cursor / perPage) + 1;
      }
      if (page > MAX_PAGE || (totalEntries !== undefined && cursor >= totalEntries)) {
        exhausted = true;
        break;
      }
      const result = await apollo.searchPeople(filters, page, perPage);
      totalEntries = result.totalEntries ?? totalEntries;
      await record([], { pages: 1, totalEntries });
      // With a page size that changed since the last page, its start may lie before the cursor.
      const fresh = result.people.slice(cursor - (page - 1) * perPage);
      if (fresh.length === 0) {
        exhausted = true;
        break;
      }

      let i = 0;
      while (i < fresh.length && leads.length < leadsWanted) {
        const batchSize = Math.min(leadsWanted - leads.length, MAX_MATCH_BATCH);
        const toMatch: ApolloSearchPerson[] = [];
        let noEmail = 0;
        while (i < fresh.length && toMatch.length < batchSize) {
          const candidates: ApolloSearchPerson[] = [];
          while (i < fresh.length && toMatch.length + candidates.length < batchSize) {
            const person = fresh[i++]!;
            if (person.hasEmail === false) noEmail++;
            else candidates.push(person);
          }
          if (candidates.length === 0) break;
          const reserved = await db.call<{ reserved: string[] }>('apollo_reserve_people', {
            p_search_id: searchId,
            p_apollo_ids: candidates.map((p) => p.id),
          });
          const ok = new Set(reserved.reserved);
          toMatch.push(...candidates.filter((p) => ok.has(p.id)));
        }
        if (toMatch.length === 0) {
          if (noEmail > 0) await record([], { noEmail });
          continue;
        }

        const match = await apollo.bulkMatch(toMatch.map((p) => p.id));
        const revealed = match.matches.map((m) => (m ? leadFromMatch(m) : undefined));
        const usable = revealed.filter((l): l is LeadToInsert => l !== undefined);
        await record(usable, {
          credits: match.creditsConsumed ?? usable.length,
          matchesRequested: toMatch.length,
          matchCalls: 1,
          noEmail: noEmail + (revealed.length - usable.length),
        });
      }
      cursor += i;
      if (leads.length < leadsWanted && result.people.length < perPage && i >= fresh.length) {
        exhausted = true;
        break;
      }
    }

    const final = await db.call<ApolloSearchRecord>('apollo_search_finish', {
      p_search_id: searchId,
      p_outcome: { status: 'completed', exhausted },
    });
    logger.info(
      {
        searchId,
        leadsWanted,
        leadsAdded: final.leadsAdded,
        creditsUsed: final.creditsUsed,
        pagesFetched: final.pagesFetched,
        exhausted,
      },
      'apollo search finished',
    );
    return { ...final, leads };
  } catch (err) {
    const error =
      err instanceof ApolloError
        ? err
        : new ApolloError('apollo_unavailable', 502, `The search stopped on an internal error: ${(err as Error).message}`);
    let final: ApolloSearchRecord;
    try {
      final = await finishFailed(db, searchId, { status: 'failed', exhausted, errorCode: error.code, errorDetail: error.detail });
    } catch (finishErr) {
      logger.error({ searchId, err: finishErr }, 'could not record the failed apollo search');
      throw err;
    }
    logger.warn(
      { searchId, code: error.code, apolloStatus: error.apolloStatus, leadsAdded: final.leadsAdded, creditsUsed: final.creditsUsed },
      'apollo search failed',
    );
    if (!(err instanceof ApolloError)) throw err;
    throw new ApolloSearchFailed(error, final);
  }
}

/**
 * Records a stopped search. When the database went away under the search (a
 * restart), it is tried again for a few seconds: a search recorded as stopped
 * is resumed by the caller's next try with the same key; one left "running"
 * would be reported busy to it.
 */
async function finishFailed(db: Database, searchId: string, outcome: Record<string, unknown>): Promise<ApolloSearchRecord> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.call<ApolloSearchRecord>('apollo_search_finish', { p_search_id: searchId, p_outcome: outcome }, { repeatable: true });
    } catch (err) {
      const passing = err instanceof DatabaseError && (err.connectionFailed || err.timedOut);
      if (!passing || attempt >= FINISH_RETRY_MS.length) throw err;
      await new Promise((r) => setTimeout(r, FINISH_RETRY_MS[attempt]));
    }
  }
}

type LeadToInsert = Record<string, string>;

/**
 * A revealed person as a lead, validated like an import. No usable email →
 * undefined (not a lead). A field that does not validate (a country we do not
 * know, a malformed URL) is left out; the lead is kept.
 */
export function leadFromMatch(m: ApolloMatchedPerson): LeadToInsert | undefined {
  if (!m.email) return undefined;
  const raw: Record<string, string | undefined> = {
    email: m.email,
    firstName: m.firstName,
    lastName: m.lastName,
    title: m.title,
    companyName: m.organization?.name,
    companyDomain: m.organization?.primaryDomain,
    website: m.organization?.websiteUrl,
    industry: m.organization?.industry,
    country: m.country,
    state: m.state,
    city: m.city,
    linkedinUrl: m.linkedinUrl,
  };
  for (const key of Object.keys(raw)) if (raw[key] === undefined) delete raw[key];
  let parsed = LeadInputSchema.safeParse(raw);
  if (!parsed.success) {
    const bad = new Set(parsed.error.issues.map((i) => String(i.path[0])));
    if (bad.has('email')) return undefined;
    for (const key of bad) delete raw[key];
    parsed = LeadInputSchema.safeParse(raw);
    if (!parsed.success) return undefined;
  }
  const lead: LeadToInsert = { apolloId: m.id };
  for (const [k, v] of Object.entries(parsed.data)) if (typeof v === 'string') lead[k] = v;
  return lead;
}
