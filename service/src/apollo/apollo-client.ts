// Apollo's people API: the free search and the paid bulk match, with our own
// retry policy. Facts we build on (shared notes/providers.md): the search
// answers obfuscated people (no emails) and `total_entries` at the top level
// (the retired endpoint had `pagination.total_entries`); bulk_match takes at
// most 10 people and costs credits per revealed email; 429 and 5xx are worth
// retrying, 401/403/422 never are; out-of-credits is undocumented (422 with a
// message about credits is what integrators see; 402 and 403 are possible).
import type { Logger } from '../app/logger';

export interface ApolloClientOptions {
  apiKey: string;
  baseUrl: string;
  /** Retries after the first attempt, for 429, 5xx, timeouts and network errors. */
  maxRetries: number;
  /** First backoff step; doubles per retry (with jitter). */
  retryBaseMs: number;
  /** A retry-after longer than this is not waited for: the caller gets apollo_rate_limited. */
  maxRetryAfterS: number;
  timeoutMs: number;
  logger?: Logger;
}

export interface ApolloSearchFilters {
  personTitles?: string[];
  personLocations?: string[];
  personSeniorities?: string[];
  organizationLocations?: string[];
  organizationNumEmployeesRanges?: string[];
  qKeywords?: string;
  qOrganizationDomains?: string[];
}

/** One person as the free search shows them: no email, no domain. */
export interface ApolloSearchPerson {
  id: string;
  firstName?: string;
  title?: string;
  /** false: Apollo has no email, matching would be wasted; undefined: Apollo did not say. */
  hasEmail?: boolean;
  organizationName?: string;
}

export interface ApolloSearchPage {
  people: ApolloSearchPerson[];
  totalEntries?: number;
}

/** One person as bulk_match reveals them. */
export interface ApolloMatchedPerson {
  id: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  title?: string;
  linkedinUrl?: string;
  city?: string;
  state?: string;
  country?: string;
  organization?: { name?: string; primaryDomain?: string; websiteUrl?: string; industry?: string };
}

export interface ApolloMatchResult {
  /** In request order; null where Apollo found no one. */
  matches: (ApolloMatchedPerson | null)[];
  /** What Apollo says it charged; undefined when it did not say. */
  creditsConsumed?: number;
}

export type ApolloErrorCode =
  | 'apollo_insufficient_credits'
  | 'apollo_forbidden'
  | 'apollo_unauthorized'
  | 'apollo_invalid_request'
  | 'apollo_rate_limited'
  | 'apollo_unavailable'
  | 'apollo_not_configured';

/** A failure the caller can explain: `status` is the HTTP status our API answers with. */
export class ApolloError extends Error {
  override name = 'ApolloError';
  constructor(
    readonly code: ApolloErrorCode,
    readonly status: 402 | 403 | 422 | 429 | 502 | 503,
    readonly detail: string,
    /** Seconds, for apollo_rate_limited. */
    readonly retryAfter?: number,
    /** The HTTP status Apollo answered with, when it answered. */
    readonly apolloStatus?: number,
  ) {
    super(detail);
  }
}

export const SEARCH_PATH = '/api/v1/mixed_people/api_search';
export const BULK_MATCH_PATH = '/api/v1/people/bulk_match';
export const MAX_PER_PAGE = 100;
export const MAX_PAGE = 500;
export const MAX_MATCH_BATCH = 10;

const MAX_BACKOFF_MS = 30_000;

export class ApolloClient {
  private readonly baseUrl: string;

  constructor(private readonly options: ApolloClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** One page of the free search. `perPage` ≤ 100, `page` ≤ 500 (Apollo's limits). */
  async searchPeople(filters: ApolloSearchFilters, page: number, perPage: number): Promise<ApolloSearchPage> {
    if (page < 1 || page > MAX_PAGE || perPage < 1 || perPage > MAX_PER_PAGE) {
      throw new RangeError(`page must be 1–${MAX_PAGE} and perPage 1–${MAX_PER_PAGE}`);
    }
    const body = await this.post(SEARCH_PATH, { ...apolloFilters(filters), page, per_page: perPage });
    if (!body || !Array.isArray(body.people)) {
      throw new ApolloError('apollo_unavailable', 502, 'Apollo answered the search without a "people" list.');
    }
    const total = numberOrUndefined(body.total_entries) ?? numberOrUndefined(body.pagination?.total_entries);
    const people: ApolloSearchPerson[] = body.people
      .filter((p: any) => p && typeof p.id === 'string')
      .map((p: any) => ({
        id: p.id,
        firstName: textOrUndefined(p.first_name),
        title: textOrUndefined(p.title),
        hasEmail: typeof p.has_email === 'boolean' ? p.has_email : undefined,
        organizationName: textOrUndefined(p.organization?.name),
      }));
    return { people, totalEntries: total };
  }

  /** Reveals up to 10 people by Apollo id. Costs credits per revealed email. */
  async bulkMatch(ids: string[]): Promise<ApolloMatchResult> {
    if (ids.length === 0 || ids.length > MAX_MATCH_BATCH) {
      throw new RangeError(`bulkMatch takes 1–${MAX_MATCH_BATCH} ids`);
    }
    const body = await this.post(BULK_MATCH_PATH, {
      details: ids.map((id) => ({ id })),
      reveal_personal_emails: false,
      reveal_phone_number: false,
    });
    if (!body || !Array.isArray(body.matches)) {
      throw new ApolloError('apollo_unavailable', 502, 'Apollo answered bulk_match without a "matches" list.');
    }
    const byId = new Map<string, ApolloMatchedPerson>();
    for (const m of body.matches) if (m && typeof m.id === 'string') byId.set(m.id, matchedPerson(m));
    // Apollo answers in request order with null for misses; map by id so a reordered answer cannot mix people up.
    return { matches: ids.map((id) => byId.get(id) ?? null), creditsConsumed: numberOrUndefined(body.credits_consumed) };
  }

  private async post(path: string, payload: unknown): Promise<any> {
    const { maxRetries, logger } = this.options;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${this.baseUrl}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'cache-control': 'no-cache',
            'x-api-key': this.options.apiKey,
          },
          body: JSON.stringify(payload),
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        text = await res.text();
      } catch (err) {
        const why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (err as Error).message;
        if (attempt < maxRetries) {
          const waitMs = this.backoff(attempt);
          logger?.warn({ path, attempt, waitMs, error: why }, 'apollo request failed; retrying');
          await sleep(waitMs);
          continue;
        }
        throw new ApolloError(
          'apollo_unavailable',
          502,
          `Apollo did not answer after ${attempt + 1} attempt${attempt ? 's' : ''} (${why}). Try again later.`,
        );
      }

      if (res.ok) {
        try {
          return JSON.parse(text);
        } catch {
          throw new ApolloError('apollo_unavailable', 502, `Apollo answered ${path} with something that is not JSON.`, undefined, res.status);
        }
      }

      const message = apolloMessage(text);
      if (res.status === 429) {
        const waitMs = this.rateLimitWait(res.headers, attempt);
        if (waitMs > this.options.maxRetryAfterS * 1000 || attempt >= maxRetries) {
          const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
          throw new ApolloError(
            'apollo_rate_limited',
            429,
            `Apollo's rate limit is reached${message ? ` ("${message}")` : ''}; try again in ${retryAfter} s.`,
            retryAfter,
            429,
          );
        }
        logger?.warn(
          { path, attempt, waitMs, minuteRequestsLeft: res.headers.get('x-minute-requests-left') },
          'apollo rate limited; waiting',
        );
        await sleep(waitMs);
        continue;
      }
      if (res.status >= 500 || res.status === 408) {
        if (attempt < maxRetries) {
          const waitMs = this.backoff(attempt);
          logger?.warn({ path, attempt, waitMs, status: res.status }, 'apollo server error; retrying');
          await sleep(waitMs);
          continue;
        }
        throw new ApolloError(
          'apollo_unavailable',
          502,
          `Apollo kept failing (HTTP ${res.status} after ${attempt + 1} attempts${message ? `: "${message}"` : ''}). Try again later.`,
          undefined,
          res.status,
        );
      }
      throw classifyApolloFailure(res.status, message, errorCode(text), path);
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, this.options.retryBaseMs * 2 ** attempt);
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  /**
   * How long to wait after a 429: Apollo's retry-after when it sends one;
   * otherwise, when the minute window is used up (x-minute-requests-left: 0),
   * until the next minute (Apollo's windows are fixed per minute); otherwise backoff.
   */
  private rateLimitWait(headers: Headers, attempt: number): number {
    const retryAfter = parseRetryAfter(headers.get('retry-after'));
    if (retryAfter !== undefined) return retryAfter;
    if (headers.get('x-minute-requests-left') === '0') {
      return Math.max(this.backoff(attempt), 60_000 - (Date.now() % 60_000));
    }
    return this.backoff(attempt);
  }
}

/** A permanent (not retried) Apollo answer turned into the error our API reports. */
export function classifyApolloFailure(status: number, message: string, code: string | undefined, path: string): ApolloError {
  const quoted = message ? ` Apollo says: "${message}"` : '';
  const aboutCredits = /credit/i.test(message) || /credit/i.test(code ?? '');
  if (status === 402 || ([403, 422].includes(status) && aboutCredits)) {
    return new ApolloError(
      'apollo_insufficient_credits',
      402,
      `Apollo has no credits left for this account: add credits in Apollo or ask for fewer leads.${quoted}`,
      undefined,
      status,
    );
  }
  if (status === 401) {
    return new ApolloError(
      'apollo_unauthorized',
      502,
      `Apollo rejected the API key (HTTP 401): check APOLLO_API_KEY.${quoted}`,
      undefined,
      status,
    );
  }
  if (status === 403) {
    return new ApolloError(
      'apollo_forbidden',
      403,
      `Apollo refused ${path} for this API key (HTTP 403${code ? ` ${code}` : ''}): the plan or key type does not allow it; use a master API key on a plan with API access.${quoted}`,
      undefined,
      status,
    );
  }
  if (status === 422 || status === 400) {
    return new ApolloError(
      'apollo_invalid_request',
      422,
      `Apollo rejected the request as invalid (HTTP ${status}); check the search filters.${quoted}`,
      undefined,
      status,
    );
  }
  return new ApolloError(
    'apollo_unavailable',
    502,
    `Apollo answered ${path} with HTTP ${status}; check APOLLO_BASE_URL.${quoted}`,
    undefined,
    status,
  );
}

function apolloFilters(f: ApolloSearchFilters): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.personTitles?.length) out.person_titles = f.personTitles;
  if (f.personLocations?.length) out.person_locations = f.personLocations;
  if (f.personSeniorities?.length) out.person_seniorities = f.personSeniorities;
  if (f.organizationLocations?.length) out.organization_locations = f.organizationLocations;
  if (f.organizationNumEmployeesRanges?.length) out.organization_num_employees_ranges = f.organizationNumEmployeesRanges;
  if (f.qKeywords) out.q_keywords = f.qKeywords;
  if (f.qOrganizationDomains?.length) out.q_organization_domains_list = f.qOrganizationDomains;
  return out;
}

function matchedPerson(m: any): ApolloMatchedPerson {
  const email = textOrUndefined(m.email);
  const org = m.organization && typeof m.organization === 'object' ? m.organization : undefined;
  return {
    id: m.id,
    // Apollo has answered locked emails with a placeholder address.
    email: email && !/^email_not_unlocked@/i.test(email) ? email : undefined,
    firstName: textOrUndefined(m.first_name),
    lastName: textOrUndefined(m.last_name),
    title: textOrUndefined(m.title),
    linkedinUrl: textOrUndefined(m.linkedin_url),
    city: textOrUndefined(m.city),
    state: textOrUndefined(m.state),
    country: textOrUndefined(m.country),
    organization: org && {
      name: textOrUndefined(org.name),
      primaryDomain: textOrUndefined(org.primary_domain),
      websiteUrl: textOrUndefined(org.website_url),
      industry: textOrUndefined(org.industry),
    },
  };
}

/** Apollo's own words from an error body (JSON `error`/`message`/`error_message`, else the text). */
export function apolloMessage(text: string): string {
  try {
    const body = JSON.parse(text);
    const m = body?.error ?? body?.message ?? body?.error_message ?? body?.errors;
    if (typeof m === 'string') return m.slice(0, 500);
    if (Array.isArray(m)) return m.map(String).join('; ').slice(0, 500);
  } catch {
    // not JSON: fall through to the text
  }
  return text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
}

function errorCode(text: string): string | undefined {
  try {
    const c = JSON.parse(text)?.error_code;
    return typeof c === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

/** retry-after in milliseconds: seconds or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function textOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function numberOrUndefined(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The client the service uses, or undefined when no APOLLO_API_KEY is set (searches answer apollo_not_configured). */
export function createApolloClient(
  config: { apiKey: string | undefined; baseUrl: string; maxRetries: number; retryBaseMs: number; maxRetryAfterS: number; timeoutMs: number },
  logger?: Logger,
): ApolloClient | undefined {
  if (!config.apiKey) return undefined;
  return new ApolloClient({ ...config, apiKey: config.apiKey, logger });
}
