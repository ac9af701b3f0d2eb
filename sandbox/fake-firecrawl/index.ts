// A local fake of Firecrawl's v2 scrape for tests, benchmarks and the sandbox
// demo (see shared notes/providers.md): POST /v2/scrape answers
// { success, data: { markdown, metadata: { statusCode, title, sourceURL, … } } },
// errors are { success: false, error, code? } with 401, 402, 408, 429 and 5xx.
// Pages are given by URL or host; unknown hosts get a deterministic page.
// Plain node:http, no test framework.
import { armFaultRules, takeFault as takeFaultOf, type ArmedFaultRule, type FaultRule } from '../fault-rules';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakePage {
  title?: string;
  markdown: string;
  /** The target site's own status (a 404 comes back inside a successful answer). */
  statusCode?: number;
  /** The site redirected here: reported as metadata.url (the final URL), sourceURL stays the asked one. */
  redirectTo?: string;
}

export type FakeFirecrawlFault =
  | { kind: 'insufficient_credits' }
  | { kind: 'unauthorized' }
  | { kind: 'timeout'; retryAfterSeconds?: number }
  | { kind: 'rate_limited'; retryAfterSeconds?: number }
  | { kind: 'server_error'; status?: 500 | 502 | 503 }
  | { kind: 'slow'; delayMs: number };

export type FakeFirecrawlFaultRule = FaultRule<FakeFirecrawlFault>;

export interface FakeFirecrawlOptions {
  /** Pages by full URL or by host name ("acme.com"; "www." is ignored). */
  pages?: Record<string, FakePage>;
  /** The accepted key; anything else gets 401 (default: any key or none, like self-hosted). */
  apiKey?: string;
  latencyMs?: number;
  faults?: FakeFirecrawlFaultRule[];
  port?: number;
}

export interface FakeFirecrawlState {
  /** Every scrape request: the target URL, the options and the status answered. */
  scrapes: { url: string; status: number; body: Record<string, unknown> }[];
  faults: ArmedFaultRule<FakeFirecrawlFaultRule>[];
}

export interface FakeFirecrawl {
  url: string;
  state: FakeFirecrawlState;
  setFaults(rules: FakeFirecrawlFaultRule[]): void;
  setPage(key: string, page: FakePage): void;
  close(): Promise<void>;
}

export async function startFakeFirecrawl(options: FakeFirecrawlOptions = {}): Promise<FakeFirecrawl> {
  const pages = new Map(Object.entries(options.pages ?? {}).map(([k, v]) => [normalizeKey(k), v]));
  const state: FakeFirecrawlState = { scrapes: [], faults: [] };
  const setFaults = (rules: FakeFirecrawlFaultRule[]) => {
    state.faults = armFaultRules(rules);
  };
  setFaults(options.faults ?? []);

  const takeFault = (): FakeFirecrawlFault | undefined => takeFaultOf<FakeFirecrawlFault, FakeFirecrawlFaultRule>(state.faults);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== '/v2/scrape') {
      send(res, 404, { success: false, error: `Cannot ${req.method} ${path}` });
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      send(res, 400, { success: false, error: 'Bad Request: invalid JSON body', code: 'BAD_REQUEST' });
      return;
    }
    const target = typeof body.url === 'string' ? body.url : '';
    const record = (status: number) => state.scrapes.push({ url: target, status, body });
    if (options.latencyMs) await delay(options.latencyMs);
    const fault = takeFault();
    if (fault?.kind === 'slow') await delay(fault.delayMs);

    const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if ((options.apiKey !== undefined && auth !== options.apiKey) || fault?.kind === 'unauthorized') {
      record(401);
      send(res, 401, { success: false, error: 'Unauthorized: Invalid token' });
      return;
    }
    if (fault?.kind === 'insufficient_credits') {
      record(402);
      send(res, 402, {
        success: false,
        error: 'Insufficient credits to perform this request. For more credits, you can upgrade your plan at https://firecrawl.dev/pricing.',
      });
      return;
    }
    if (fault?.kind === 'timeout') {
      record(408);
      send(res, 408, { success: false, error: 'Scrape timed out', code: 'SCRAPE_TIMEOUT' }, fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {});
      return;
    }
    if (fault?.kind === 'rate_limited') {
      record(429);
      send(
        res,
        429,
        { success: false, error: `Rate limit exceeded. Consumed (req/min): 11, Remaining (req/min): 0. Upgrade your plan at https://firecrawl.dev/pricing for increased rate limits or please retry after ${fault.retryAfterSeconds ?? 1}s.` },
        { 'retry-after': String(fault.retryAfterSeconds ?? 1) },
      );
      return;
    }
    if (fault?.kind === 'server_error') {
      record(fault.status ?? 500);
      send(res, fault.status ?? 500, {
        success: false,
        error: 'An unexpected error occurred. Please contact help@firecrawl.com for help. Your exception ID is fake-0',
        code: 'UNKNOWN_ERROR',
      });
      return;
    }
    let host = '';
    try {
      host = new URL(target).hostname.toLowerCase().replace(/^www\./, '');
    } catch {
      record(400);
      send(res, 400, { success: false, error: 'Bad Request: url must be a valid URL', code: 'BAD_REQUEST' });
      return;
    }
    const page = pages.get(normalizeKey(target)) ?? pages.get(host) ?? defaultPage(host);
    record(200);
    send(res, 200, {
      success: true,
      data: {
        markdown: page.markdown,
        metadata: {
          title: page.title ?? host,
          sourceURL: target,
          url: page.redirectTo ?? target,
          statusCode: page.statusCode ?? 200,
          contentType: 'text/html; charset=utf-8',
          creditsUsed: 1,
          cacheState: 'miss',
          scrapeId: `fake-${state.scrapes.length}`,
        },
      },
    });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    state,
    setFaults,
    setPage: (key, page) => pages.set(normalizeKey(key), page),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function normalizeKey(key: string): string {
  return key.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/^www\./, '').replace(/\/$/, '');
}

function defaultPage(host: string): FakePage {
  return {
    title: host,
    markdown: `# ${host}\n\nWelcome to ${host}. We are a family-owned business serving customers across the region since 1987.`,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
