// A local fake of Apollo's people API for tests, benchmarks and the sandbox
// demo. It speaks the two endpoints Corofy uses with Apollo's wire format
// (see shared notes/providers.md): the free, obfuscated search and the paid
// bulk match, a credit balance, per-minute limits with Apollo's headers, and
// faults that can be switched on while it runs. Plain node:http, no test
// framework: the service itself starts it in sandbox mode.
import { armFaultRules, takeFault as takeFaultOf, type ArmedFaultRule, type FaultRule } from '../fault-rules';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generatePeople, obfuscate, type FakePerson } from './people';

export type { FakePerson } from './people';

export type FakeApolloFault =
  /** Out of credits even with a balance left, answered with the given status (default 422). */
  | { kind: 'out_of_credits'; status?: 402 | 403 | 422 }
  /** 403 API_INACCESSIBLE: the key's plan may not use this endpoint. */
  | { kind: 'forbidden' }
  /** 401: as if the key were wrong. */
  | { kind: 'unauthorized' }
  /** 422 validation error with this message. */
  | { kind: 'unprocessable'; message?: string }
  /** 429; `retryAfter` seconds in the retry-after header (null: no header). */
  | { kind: 'rate_limited'; retryAfter?: number | null }
  | { kind: 'server_error'; status?: 500 | 502 | 503 | 504 }
  /** Answers normally, after a delay. */
  | { kind: 'slow'; delayMs: number };

export interface FakeApolloFaultRule extends FaultRule<FakeApolloFault> {
  /** Which endpoint it hits (default both). */
  endpoint?: 'search' | 'match';
}

export interface FakeApolloOptions {
  seed?: number;
  /** How many people the fake knows (before filters). */
  people?: number;
  /** Credits left; each revealed email costs one. */
  credits?: number;
  /** The accepted x-api-key; anything else gets 401. */
  apiKey?: string;
  noEmailRate?: number;
  revealFailRate?: number;
  /** Requests per fixed minute window, per endpoint (bulk endpoints get less on real plans). */
  perMinute?: { search?: number; match?: number };
  /** Whether a 429 from the minute limit carries retry-after (Apollo does not document it). */
  retryAfterOnLimit?: boolean;
  /** How out-of-credits is answered when the balance runs out (undocumented by Apollo). */
  outOfCreditsStatus?: 402 | 403 | 422;
  /** Answer like the retired endpoint: a `pagination` object instead of top-level total_entries. */
  legacyPagination?: boolean;
  /** Request log kept in state.requests (default true). */
  recordRequests?: boolean;
  port?: number;
}

export interface FakeApolloRequest {
  endpoint: 'search' | 'match' | 'other';
  status: number;
  body: any;
  at: number;
}

export interface FakeApolloState {
  readonly apiKey: string;
  credits: number;
  creditsUsed: number;
  /** How out-of-credits is answered when the balance runs out (switchable). */
  outOfCreditsStatus: 402 | 403 | 422;
  readonly people: FakePerson[];
  faults: ArmedFaultRule<FakeApolloFaultRule>[];
  requests: FakeApolloRequest[];
  counts: { search: number; match: number; matchedPeople: number };
}

export interface FakeApollo {
  url: string;
  state: FakeApolloState;
  /** Switches a fault on (rules are checked in order; the first that applies answers). */
  fault(rule: FakeApolloFaultRule): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const CREDITS_MESSAGE = 'Insufficient credits. Please upgrade your plan or purchase more credits.';

export async function startFakeApollo(options: FakeApolloOptions = {}): Promise<FakeApollo> {
  const seed = options.seed ?? 1;
  const apiKey = options.apiKey ?? 'fake-apollo-key';
  const people = generatePeople({
    seed,
    count: options.people ?? 2000,
    noEmailRate: options.noEmailRate ?? 0.12,
    revealFailRate: options.revealFailRate ?? 0.04,
  });
  const byId = new Map(people.map((p) => [p.id, p]));
  const limits = { search: options.perMinute?.search ?? 600, match: options.perMinute?.match ?? 200 };
  const windows = { search: { start: 0, used: 0 }, match: { start: 0, used: 0 } };
  const record = options.recordRequests ?? true;

  const state: FakeApolloState = {
    apiKey,
    credits: options.credits ?? 1_000_000,
    creditsUsed: 0,
    outOfCreditsStatus: options.outOfCreditsStatus ?? 422,
    people,
    faults: [],
    requests: [],
    counts: { search: 0, match: 0, matchedPeople: 0 },
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, Buffer.concat(chunks).toString('utf8'), res).catch((err) => {
        if (!res.headersSent) send(res, 500, { error: String(err) });
      });
    });
  });

  async function handle(req: http.IncomingMessage, raw: string, res: http.ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    const endpoint =
      req.method === 'POST' && path === '/api/v1/mixed_people/api_search'
        ? 'search'
        : req.method === 'POST' && path === '/api/v1/people/bulk_match'
          ? 'match'
          : 'other';
    let body: any = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      return reply(400, { error: 'Invalid JSON body' });
    }
    function reply(status: number, payload: unknown, headers: Record<string, string> = {}) {
      if (record) state.requests.push({ endpoint, status, body, at: Date.now() });
      send(res, status, payload, headers);
    }
    if (endpoint === 'other') return reply(404, { error: `No route ${req.method} ${path}` });
    state.counts[endpoint]++;

    if (req.headers['x-api-key'] !== apiKey) {
      return reply(401, {
        error: 'Invalid access credentials.',
        error_code: 'INVALID_API_KEY',
      });
    }

    const fault = takeFault(endpoint);
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs));
    else if (fault) return replyFault(fault, reply);

    const limit = rateLimit(endpoint);
    if (limit.exceeded) {
      return reply(
        429,
        {
          message: `The maximum number of api calls allowed for ${path} is ${limits[endpoint]} times per minute. Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade.`,
        },
        { ...limit.headers, ...(options.retryAfterOnLimit === false ? {} : { 'retry-after': String(limit.resetInS) }) },
      );
    }
    if (endpoint === 'search') return search(body, reply, limit.headers);
    return match(body, reply, limit.headers);
  }

  function takeFault(endpoint: 'search' | 'match'): FakeApolloFault | undefined {
    return takeFaultOf<FakeApolloFault, FakeApolloFaultRule>(state.faults, (r) => !r.endpoint || r.endpoint === endpoint);
  }

  function replyFault(fault: Exclude<FakeApolloFault, { kind: 'slow' }>, reply: (s: number, p: unknown, h?: Record<string, string>) => void) {
    switch (fault.kind) {
      case 'out_of_credits':
        return outOfCredits(fault.status ?? 422, reply);
      case 'forbidden':
        return reply(403, {
          error:
            'api/v1/mixed_people/api_search is not accessible with this api_key on a free plan. Please upgrade your plan from https://app.apollo.io/.',
          error_code: 'API_INACCESSIBLE',
        });
      case 'unauthorized':
        return reply(401, { error: 'Invalid access credentials.', error_code: 'INVALID_API_KEY' });
      case 'unprocessable':
        return reply(422, { error: fault.message ?? 'Invalid parameters: person_titles must be an array' });
      case 'rate_limited':
        return reply(
          429,
          { message: 'The maximum number of api calls allowed for this endpoint has been reached. Please try again later.' },
          fault.retryAfter == null ? {} : { 'retry-after': String(fault.retryAfter) },
        );
      case 'server_error':
        return reply(fault.status ?? 500, '<html><body><h1>Internal Server Error</h1></body></html>');
    }
  }

  function outOfCredits(status: 402 | 403 | 422, reply: (s: number, p: unknown) => void) {
    return reply(status, status === 403 ? { error: CREDITS_MESSAGE, error_code: 'INSUFFICIENT_CREDITS' } : { error: CREDITS_MESSAGE });
  }

  function rateLimit(endpoint: 'search' | 'match') {
    const now = Date.now();
    const minute = Math.floor(now / 60_000) * 60_000;
    const w = windows[endpoint];
    if (w.start !== minute) {
      w.start = minute;
      w.used = 0;
    }
    const exceeded = w.used >= limits[endpoint];
    if (!exceeded) w.used++;
    const left = Math.max(0, limits[endpoint] - w.used);
    return {
      exceeded,
      resetInS: Math.max(1, Math.ceil((minute + 60_000 - now) / 1000)),
      headers: {
        'x-rate-limit-minute': String(limits[endpoint]),
        'x-minute-requests-left': String(left),
        'x-minute-usage': String(w.used),
        'x-rate-limit-hourly': String(limits[endpoint] * 10),
        'x-hourly-requests-left': String(limits[endpoint] * 10 - w.used),
        'x-rate-limit-daily': String(limits[endpoint] * 50),
        'x-daily-requests-left': String(limits[endpoint] * 50 - w.used),
      },
    };
  }

  function search(body: any, reply: (s: number, p: unknown, h?: Record<string, string>) => void, headers: Record<string, string>) {
    const page = body.page === undefined ? 1 : Number(body.page);
    const perPage = Math.min(100, body.per_page === undefined ? 25 : Number(body.per_page));
    if (!Number.isInteger(page) || page < 1 || page > 500) {
      return reply(422, { error: 'page must be a whole number from 1 to 500' }, headers);
    }
    if (!Number.isInteger(perPage) || perPage < 1) {
      return reply(422, { error: 'per_page must be a positive whole number' }, headers);
    }
    for (const key of ['person_titles', 'person_locations', 'person_seniorities', 'organization_locations', 'organization_num_employees_ranges', 'q_organization_domains_list']) {
      if (body[key] !== undefined && !(Array.isArray(body[key]) && body[key].every((v: unknown) => typeof v === 'string'))) {
        return reply(422, { error: `${key} must be an array of strings` }, headers);
      }
    }
    const found = people.filter((p) => matchesFilters(p, body));
    const slice = found.slice((page - 1) * perPage, page * perPage).map((p) => ({
      id: p.id,
      first_name: p.first_name,
      last_name_obfuscated: obfuscate(p.last_name),
      title: p.title,
      last_refreshed_at: '2026-10-02T08:14:11.000+00:00',
      has_email: p.email !== null,
      has_city: p.city !== null,
      has_state: p.state !== null,
      has_country: p.country !== null,
      has_direct_phone: 'Maybe: please request direct dial via people/bulk_match',
      organization: {
        name: p.organization.name,
        has_industry: p.organization.industry !== null,
        has_phone: true,
        has_city: true,
        has_state: p.organization.state !== null,
        has_country: true,
        has_zip_code: false,
        has_revenue: false,
        has_employee_count: true,
      },
    }));
    const payload = options.legacyPagination
      ? {
          pagination: { page, per_page: perPage, total_entries: found.length, total_pages: Math.ceil(found.length / perPage) },
          people: slice,
        }
      : { total_entries: found.length, people: slice };
    return reply(200, payload, headers);
  }

  function match(body: any, reply: (s: number, p: unknown, h?: Record<string, string>) => void, headers: Record<string, string>) {
    const details = body.details;
    if (!Array.isArray(details) || details.length === 0) {
      return reply(422, { error: 'details must be a non-empty array' }, headers);
    }
    if (details.length > 10) {
      return reply(422, { error: 'You can only enrich up to 10 records at a time' }, headers);
    }
    const found = details.map((d: any) => (d && typeof d.id === 'string' ? byId.get(d.id) : undefined) ?? null);
    const revealing = found.filter((p: FakePerson | null) => p && p.email && !p.revealFails).length;
    if (revealing > state.credits) return outOfCredits(state.outOfCreditsStatus, reply);
    state.credits -= revealing;
    state.creditsUsed += revealing;
    state.counts.matchedPeople += details.length;
    const matches = found.map((p: FakePerson | null) => (p ? revealed(p) : null));
    return reply(
      200,
      {
        status: 'success',
        error_code: null,
        error_message: null,
        total_requested_enrichments: details.length,
        unique_enriched_records: found.filter(Boolean).length,
        missing_records: found.filter((p: FakePerson | null) => !p).length,
        credits_consumed: revealing,
        matches,
      },
      headers,
    );
  }

  const url = await new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });

  return {
    url,
    state,
    fault: (rule) => state.faults.push(...armFaultRules([rule])),
    clearFaults: () => {
      state.faults = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function revealed(p: FakePerson) {
  const email = p.email && !p.revealFails ? p.email : null;
  return {
    id: p.id,
    first_name: p.first_name,
    last_name: p.last_name,
    name: `${p.first_name} ${p.last_name}`,
    linkedin_url: p.linkedin_url,
    title: p.title,
    seniority: p.seniority,
    email_status: email ? p.email_status : 'unavailable',
    email,
    city: p.city,
    state: p.state,
    country: p.country,
    organization_id: p.organization.id,
    organization: {
      id: p.organization.id,
      name: p.organization.name,
      website_url: p.organization.website_url,
      primary_domain: p.organization.primary_domain,
      industry: p.organization.industry,
      estimated_num_employees: p.organization.estimated_num_employees,
      city: p.organization.city,
      state: p.organization.state,
      country: p.organization.country,
    },
  };
}

function matchesFilters(p: FakePerson, body: any): boolean {
  const any = (list: unknown, test: (v: string) => boolean) =>
    !Array.isArray(list) || list.length === 0 || list.some((v) => typeof v === 'string' && test(v.toLowerCase()));
  const where = [p.city, p.state, p.country].filter(Boolean).join(', ').toLowerCase();
  const orgWhere = [p.organization.city, p.organization.state, p.organization.country].join(', ').toLowerCase();
  return (
    any(body.person_titles, (t) => p.title.toLowerCase().includes(t)) &&
    any(body.person_seniorities, (s) => p.seniority === s) &&
    any(body.person_locations, (l) => where.includes(l)) &&
    any(body.organization_locations, (l) => orgWhere.includes(l)) &&
    any(body.q_organization_domains_list, (d) => p.organization.primary_domain === d) &&
    any(body.organization_num_employees_ranges, (r) => {
      const [lo, hi] = r.split(',').map(Number);
      const n = p.organization.estimated_num_employees;
      return n >= (lo ?? 0) && n <= (hi || Infinity);
    }) &&
    (typeof body.q_keywords !== 'string' ||
      body.q_keywords.trim() === '' ||
      `${p.title} ${p.organization.name} ${p.organization.industry ?? ''}`.toLowerCase().includes(body.q_keywords.trim().toLowerCase()))
  );
}

function send(res: http.ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
  const isText = typeof payload === 'string';
  res.writeHead(status, {
    'content-type': isText ? 'text/html' : 'application/json; charset=utf-8',
    ...headers,
  });
  res.end(isText ? payload : JSON.stringify(payload));
}
