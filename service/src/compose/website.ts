import type { Logger } from '../app/logger';
import type { Config } from '../config/env';
import type { Database } from '../db/database';
import { normalizeDomain } from '../app/schemas';
import { FirecrawlProviderError, type FirecrawlClient } from '../providers/firecrawl-client';
import type { WebsiteOutcome } from './compose-schema';
import { safePublicUrl, UnsafeUrlError, type HostResolver } from './safe-url';

// The recipient company's website: read from the cache, else scraped with
// Firecrawl (once per domain at a time) and cached. Beside the page the cache
// keeps a short profile of the company, written by the AI with the first
// draft of the domain; later leads of the domain get the profile, not the page.

export interface WebsiteDeps {
  config: Config;
  db: Database;
  logger: Logger;
  firecrawl: FirecrawlClient;
  resolveHost: HostResolver;
}

export interface CachedSite {
  domain: string;
  url: string;
  title: string | null;
  markdown: string | null;
  statusCode: number | null;
  error: string | null;
  /** What the company does, in a few sentences (null until a draft made one). */
  summary: string | null;
  /** The catalog product chosen with the summary (null: none fits). */
  summaryProductId: string | null;
}

export type WebsiteRead = WebsiteOutcome & { site?: CachedSite };

/** What a draft is written from when the company's website is the source. */
export interface SiteSource {
  website: WebsiteOutcome;
  site?: CachedSite;
}

/** A draft written from a site; summary is the company profile written beside it (from a page only). */
type WrittenWithProfile = { summary?: string | null; summaryProductId?: string | null } | object;

export class WebsiteReader {
  /** Scrapes in flight per domain: leads of one company share one scrape. */
  private readonly scraping = new Map<string, Promise<WebsiteRead>>();
  /** Per domain, the lead whose draft is writing the company profile: the next lead of the domain waits for it. */
  private readonly summarizing = new Map<string, Promise<void>>();

  constructor(private readonly deps: WebsiteDeps) {}

  /**
   * Reads the company's site for a draft and writes the draft with `write`:
   * from the page, from the company's profile once a draft wrote one, or
   * without the site when there is nothing usable. When storing, the profile
   * written beside the first draft of a domain is kept; one lead at a time
   * writes it, the others of the domain wait and then use the profile instead
   * of sending the page again.
   */
  async writeWithSite<W extends WrittenWithProfile>(
    target: string,
    opts: { store: boolean },
    write: (from: SiteSource) => Promise<W>,
  ): Promise<W> {
    let read = await this.read(target, opts);
    const website: WebsiteOutcome = { url: read.url, outcome: read.outcome, ...(read.detail ? { detail: read.detail } : {}) };
    if (!read.site) return write({ website });
    if (read.site.summary || !opts.store) return write({ website, site: read.site });

    const domain = read.site.domain;
    for (let waiting = this.summarizing.get(domain); waiting; waiting = this.summarizing.get(domain)) {
      await waiting;
      read = await this.read(target, opts);
      if (!read.site) return write({ website });
      if (read.site.summary) return write({ website: { ...website, outcome: 'cached' }, site: read.site });
    }
    let done!: () => void;
    this.summarizing.set(domain, new Promise<void>((resolve) => (done = resolve)));
    try {
      const written = await write({ website, site: read.site });
      if ('summary' in written && written.summary) {
        await this.saveSummary(domain, written.summary, written.summaryProductId ?? null);
      }
      return written;
    } finally {
      this.summarizing.delete(domain);
      done();
    }
  }

  /** The domain a lead's website or company domain stands for, or a refusal. */
  async target(target: string): Promise<{ url: URL; domain: string } | { refused: string }> {
    try {
      const url = await safePublicUrl(target, { resolve: this.deps.resolveHost, allowedPorts: this.deps.config.website.allowedPorts });
      return { url, domain: normalizeDomain(url.hostname) ?? url.hostname };
    } catch (err) {
      if (err instanceof UnsafeUrlError) return { refused: err.message };
      throw err;
    }
  }

  /**
   * The company's site from the cache, else scraped. `store: false` (a preview)
   * scrapes without keeping anything.
   */
  async read(target: string, opts: { store: boolean } = { store: true }): Promise<WebsiteRead> {
    const { db, firecrawl } = this.deps;
    const t = await this.target(target);
    if ('refused' in t) return { outcome: 'refused', detail: `Not scraped: ${t.refused}.` };
    const { url, domain } = t;
    const cached = await db.call<CachedSite | null>('get_company_website', { p_domain: domain });
    if (cached) {
      return usable(cached)
        ? { url: cached.url, outcome: 'cached', site: cached }
        : { url: cached.url, outcome: 'empty', detail: cached.error ?? `The site answered ${cached.statusCode ?? 'nothing usable'}.` };
    }
    if (!firecrawl.configured) {
      return { url: url.href, outcome: 'failed', detail: 'Firecrawl is not configured (FIRECRAWL_API_KEY or FIRECRAWL_API_URL).' };
    }
    if (!opts.store) return this.scrape(domain, url.href, false);
    let pending = this.scraping.get(domain);
    if (!pending) {
      pending = this.scrape(domain, url.href, true).finally(() => this.scraping.delete(domain));
      this.scraping.set(domain, pending);
    }
    return pending;
  }

  /** Keeps the company profile the first draft of a domain wrote. */
  async saveSummary(domain: string, summary: string, productId: string | null): Promise<void> {
    await this.deps.db.call('save_company_summary', { p_domain: domain, p_summary: summary, p_product_id: productId });
  }

  private async refusal(url: string): Promise<string | undefined> {
    const t = await this.target(url);
    return 'refused' in t ? t.refused : undefined;
  }

  private async scrape(domain: string, url: string, store: boolean): Promise<WebsiteRead> {
    const { config, db, firecrawl, logger } = this.deps;
    const save = async (site: Omit<CachedSite, 'summary' | 'summaryProductId'>) => {
      if (!store) return;
      const { domain, url, title, markdown, statusCode, error } = site;
      await db.call('save_company_website', {
        p_site: { domain, url, title, markdown, statusCode, error },
        p_ttl_seconds: config.website.cacheTtlHours * 3600,
      });
    };
    try {
      const page = await firecrawl.scrape(url);
      // A public site may redirect to an internal one: such content is never used or kept.
      const redirectRefusal = page.finalUrl === url ? undefined : await this.refusal(page.finalUrl);
      if (redirectRefusal) {
        const error = `Redirected to a refused address: ${redirectRefusal}.`;
        await save({ domain, url, title: null, markdown: null, statusCode: page.statusCode ?? null, error });
        return { url, outcome: 'refused', detail: error };
      }
      const site: CachedSite = {
        domain,
        url,
        title: page.title ?? null,
        markdown: page.markdown,
        statusCode: page.statusCode ?? null,
        error: page.statusCode !== undefined && page.statusCode >= 400 ? `The site answered ${page.statusCode}.` : null,
        summary: null,
        summaryProductId: null,
      };
      await save(site);
      return usable(site)
        ? { url, outcome: 'scraped', site }
        : { url, outcome: 'empty', detail: site.error ?? 'The page had no readable text.' };
    } catch (err) {
      if (!(err instanceof FirecrawlProviderError)) throw err;
      logger.warn({ domain, code: err.code, status: err.status }, 'website scrape failed; composing without it');
      return { url, outcome: 'failed', detail: `${err.code}: ${err.message}` };
    }
  }
}

function usable(site: CachedSite): boolean {
  return Boolean(site.markdown && site.markdown.trim() !== '' && (site.statusCode === null || site.statusCode < 400));
}
