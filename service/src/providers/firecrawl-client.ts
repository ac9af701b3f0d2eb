import type Firecrawl from '@mendable/firecrawl-js';
import type { Logger } from '../app/logger';
import { sleep } from './rate-limiter';

// Firecrawl v2 scrape of one page as markdown (main content only). The SDK
// retries only 502 (and only on GET), so 408/429/5xx are retried here.

export interface FirecrawlClientOptions {
  apiKey: string | undefined;
  apiUrl: string;
  timeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  /** Markdown longer than this is cut (the prompt needs the gist, not the whole site). */
  maxChars: number;
}

export interface ScrapedPage {
  url: string;
  /** Where the page really came from after redirects (Firecrawl's metadata.url). */
  finalUrl: string;
  title: string | undefined;
  markdown: string;
  /** The target site's own HTTP status, as Firecrawl saw it. */
  statusCode: number | undefined;
}

export type FirecrawlErrorCode =
  | 'firecrawl_insufficient_credits'
  | 'firecrawl_unauthorized'
  | 'firecrawl_rate_limited'
  | 'firecrawl_timeout'
  | 'firecrawl_unavailable'
  | 'firecrawl_rejected';

export class FirecrawlProviderError extends Error {
  override name = 'FirecrawlProviderError';
  constructor(
    readonly code: FirecrawlErrorCode,
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export class FirecrawlClient {
  private sdkInstance: Firecrawl | undefined;
  scrapes = 0;

  constructor(
    private readonly options: FirecrawlClientOptions,
    private readonly logger: Logger,
  ) {}

  /** The SDK (and its HTTP stack, ~20 MB) is loaded on the first scrape, not at start. */
  private get sdk(): Firecrawl {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { default: FirecrawlSdk } = require('@mendable/firecrawl-js') as typeof import('@mendable/firecrawl-js');
    // apiKey '' (self-hosted) must not fall back to process.env inside the SDK.
    return (this.sdkInstance ??= new FirecrawlSdk({
      apiKey: this.options.apiKey ?? '',
      apiUrl: this.options.apiUrl,
      timeoutMs: this.options.timeoutMs,
      maxRetries: 1,
    }));
  }

  /** Firecrawl's cloud needs a key; a self-hosted one (any other URL) does not. */
  get configured(): boolean {
    return Boolean(this.options.apiKey) || !/api\.firecrawl\.dev/i.test(this.options.apiUrl);
  }

  async scrape(url: string): Promise<ScrapedPage> {
    for (let attempt = 1; ; attempt++) {
      this.scrapes++;
      try {
        const doc = await this.sdk.scrape(url, {
          formats: ['markdown'],
          onlyMainContent: true,
          timeout: this.options.timeoutMs,
          autoResume: false,
        });
        const metadata = (doc.metadata ?? {}) as { title?: unknown; statusCode?: unknown; sourceURL?: unknown; url?: unknown };
        return {
          url: typeof metadata.sourceURL === 'string' ? metadata.sourceURL : url,
          finalUrl: typeof metadata.url === 'string' && metadata.url !== '' ? metadata.url : url,
          title: typeof metadata.title === 'string' ? metadata.title.slice(0, 500) : undefined,
          markdown: (doc.markdown ?? '').slice(0, this.options.maxChars),
          statusCode: typeof metadata.statusCode === 'number' ? metadata.statusCode : undefined,
        };
      } catch (err) {
        const e = classify(err);
        const retryable = e.code === 'firecrawl_rate_limited' || e.code === 'firecrawl_timeout' || e.code === 'firecrawl_unavailable';
        if (!retryable || attempt > this.options.maxRetries) throw e;
        const wait = this.options.retryBaseMs * 2 ** (attempt - 1);
        this.logger.warn({ attempt, status: e.status, code: e.code, wait }, 'firecrawl scrape failed; retrying');
        await sleep(wait);
      }
    }
  }
}

function classify(err: unknown): FirecrawlProviderError {
  const e = err as { status?: number; code?: string; message?: string };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const message = (e.message ?? String(err)).slice(0, 300);
  if (status === 402) {
    return new FirecrawlProviderError('firecrawl_insufficient_credits', 'Firecrawl says the account has no credits left (402).', status);
  }
  if (status === 401 || status === 403) {
    return new FirecrawlProviderError('firecrawl_unauthorized', `Firecrawl rejected the API key (${status}): check FIRECRAWL_API_KEY.`, status);
  }
  if (status === 429) return new FirecrawlProviderError('firecrawl_rate_limited', `Firecrawl rate limited the scrape: ${message}`, status);
  if (status === 408 || e.code === 'SCRAPE_TIMEOUT' || e.code === 'ECONNABORTED' || /timeout/i.test(message)) {
    return new FirecrawlProviderError('firecrawl_timeout', `Firecrawl timed out scraping the site: ${message}`, status);
  }
  if (status === undefined || status >= 500) {
    return new FirecrawlProviderError('firecrawl_unavailable', `Firecrawl is unavailable (${status ?? 'no response'}): ${message}`, status);
  }
  return new FirecrawlProviderError('firecrawl_rejected', `Firecrawl could not scrape the site (${status}): ${message}`, status);
}
