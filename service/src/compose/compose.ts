import type { Logger } from '../app/logger';
import { matchIndustry, type Product } from '../catalog/catalog';
import type { Config } from '../config/env';
import type { Database } from '../db/database';
import { normalizeDomain } from '../leads/lead-input';
import { FirecrawlProviderError, type FirecrawlClient } from '../providers/firecrawl-client';
import { OpenAIProviderError, type OpenAIClient } from '../providers/openai-client';
import { unsubscribeFooter } from '../unsubscribe/footer';
import {
  buildUserPrompt,
  DRAFT_JSON_SCHEMA,
  draftProblem,
  DraftOutputSchema,
  SYSTEM_PROMPT,
  textToHtml,
  type DraftOutput,
  type PromptInput,
} from './prompt';
import { safePublicUrl, UnsafeUrlError, type HostResolver } from './safe-url';

// Composition per lead: the catalog first (the lead's industry names a
// product), the company's website next (cached, scraped with Firecrawl, the AI
// picks the product), a generic pitch when there is nothing to go on.

export interface ComposeDeps {
  config: Config;
  db: Database;
  logger: Logger;
  openai: OpenAIClient;
  firecrawl: FirecrawlClient;
  resolveHost: HostResolver;
}

export type DraftSource = 'catalog' | 'website' | 'generic';

export interface WebsiteOutcome {
  url?: string;
  /** cached / scraped: content used; empty: nothing usable; refused: the SSRF guard said no; failed: Firecrawl failed. */
  outcome: 'cached' | 'scraped' | 'empty' | 'refused' | 'failed';
  detail?: string;
}

export interface ComposedEmail {
  leadId: string;
  subject: string;
  text: string;
  html: string;
  product: string | null;
  source: DraftSource;
  model: string | null;
  /** False when this is the stored draft of an earlier call. */
  generated: boolean;
  website?: WebsiteOutcome;
}

export interface ComposeFailure {
  leadId: string;
  code: string;
  detail: string;
}

export interface ComposeRequest {
  leadIds: string[];
  regenerate: boolean;
  sender: string;
  /** Where unsubscribe links point (COROFY_PUBLIC_URL or the request's origin). */
  baseUrl: string;
}

interface PreparedLead {
  id: string;
  missing?: boolean;
  status?: string;
  firstName?: string;
  lastName?: string;
  title?: string;
  companyName?: string;
  companyDomain?: string;
  website?: string;
  industry?: string;
  country?: string;
  city?: string;
  refusal?: string | null;
  draft?: StoredDraft | null;
}

interface StoredDraft {
  leadId: string;
  subject: string;
  text: string;
  html: string;
  product: string | null;
  source: DraftSource;
  model: string | null;
}

interface Prepared {
  sender: { id: string; fromName: string | null; postalAddress: string | null };
  catalog: Product[];
  leads: PreparedLead[];
}

interface CachedSite {
  url: string;
  title: string | null;
  markdown: string | null;
  statusCode: number | null;
  error: string | null;
}

const REFUSALS: Record<string, string> = {
  lead_sent: 'The lead was already sent this email.',
  lead_replied: 'The lead replied: nothing more is composed for them.',
  lead_bounced: "The lead's address bounced.",
  lead_unsubscribed: 'The lead unsubscribed.',
  lead_complained: 'The lead complained (marked as spam).',
  lead_suppressed: "The lead's address or domain is on the suppression list.",
  lead_already_scheduled: 'The lead already has a send scheduled with the stored draft; it cannot be regenerated now.',
};

export class Composer {
  /** Scrapes in flight per domain: leads of one company share one scrape. */
  private readonly scraping = new Map<string, Promise<WebsiteOutcome & { site?: CachedSite }>>();

  constructor(private readonly deps: ComposeDeps) {}

  async compose(req: ComposeRequest): Promise<{ emails: ComposedEmail[]; failed: ComposeFailure[] }> {
    const leadIds = [...new Set(req.leadIds)];
    const prepared = await this.deps.db.call<Prepared>('compose_prepare', {
      p_lead_ids: leadIds,
      p_sender: req.sender,
      p_regenerate: req.regenerate,
    }, { repeatable: true });
    const results: ({ email: ComposedEmail } | { failure: ComposeFailure } | undefined)[] = [];
    const todo: { index: number; lead: PreparedLead }[] = [];
    const adopt: { index: number; lead: PreparedLead }[] = [];
    const suppressed: string[] = [];
    prepared.leads.forEach((lead, index) => {
      if (lead.missing) {
        results[index] = { failure: { leadId: lead.id, code: 'lead_not_found', detail: `No lead has id ${lead.id}.` } };
      } else if (lead.refusal) {
        results[index] = { failure: { leadId: lead.id, code: lead.refusal, detail: REFUSALS[lead.refusal] ?? lead.refusal } };
        if (lead.refusal === 'lead_suppressed' && (lead.status === 'claimed' || lead.status === 'composed')) suppressed.push(lead.id);
      } else if (lead.draft && !req.regenerate) {
        results[index] = { email: { ...storedEmail(lead.draft), generated: false } };
        // a lead claimed again (its earlier claim ran out after composing) is composed by its stored draft
        if (lead.status === 'claimed') adopt.push({ index, lead });
      } else {
        todo.push({ index, lead });
      }
    });

    // a suppressed lead ends here (skipped, claim given back) instead of cycling through claims
    for (const id of suppressed) await this.deps.db.call('skip_suppressed_lead', { p_lead_id: id });
    for (const { index, lead } of adopt) {
      const saved = await this.deps.db.call<{ ok: boolean; code?: string; detail?: string }>('save_draft', {
        p_lead_id: lead.id,
        p_draft: lead.draft,
        p_regenerate: false,
      }, { repeatable: true });
      if (!saved.ok) {
        const code = saved.code ?? 'draft_not_saved';
        results[index] = { failure: { leadId: lead.id, code, detail: saved.detail ?? REFUSALS[code] ?? code } };
      }
    }

    if (todo.length > 0 && !this.deps.openai.configured) {
      throw new OpenAIProviderError(
        'openai_not_configured',
        503,
        'OpenAI is not configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible endpoint) to compose emails.',
        true,
      );
    }

    // Bounded concurrency; the process-wide limiter paces the AI calls. An
    // error that stops the call (billing, key) stops taking new leads at once.
    let stop: OpenAIProviderError | undefined;
    let next = 0;
    const worker = async () => {
      while (!stop && next < todo.length) {
        const { index, lead } = todo[next++]!;
        try {
          results[index] = await this.composeLead(lead, prepared, req);
        } catch (err) {
          if (err instanceof OpenAIProviderError && err.stopsCall) {
            stop ??= err;
          } else if (err instanceof OpenAIProviderError) {
            results[index] = { failure: { leadId: lead.id, code: err.code, detail: err.message } };
          } else {
            throw err;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.config.compose.concurrency, todo.length) }, worker));
    if (stop) throw stop;

    const emails: ComposedEmail[] = [];
    const failed: ComposeFailure[] = [];
    for (const r of results) {
      if (r && 'email' in r) emails.push(r.email);
      else if (r) failed.push(r.failure);
    }
    return { emails, failed };
  }

  private async composeLead(
    lead: PreparedLead,
    prepared: Prepared,
    req: ComposeRequest,
  ): Promise<{ email: ComposedEmail } | { failure: ComposeFailure }> {
    const { config } = this.deps;
    const catalogProduct = matchIndustry(prepared.catalog, lead.industry);
    let source: DraftSource = 'generic';
    let website: WebsiteOutcome | undefined;
    let site: CachedSite | undefined;
    if (catalogProduct) {
      source = 'catalog';
    } else if (lead.website || lead.companyDomain) {
      const w = await this.website((lead.website ?? lead.companyDomain)!);
      website = { url: w.url, outcome: w.outcome, ...(w.detail ? { detail: w.detail } : {}) };
      if (w.site) {
        site = w.site;
        source = 'website';
      }
    }

    const signature = `\n\nBest regards,\n${prepared.sender.fromName ?? ''}`.trimEnd();
    const promptInput: PromptInput = {
      lead: {
        firstName: lead.firstName ?? null,
        lastName: lead.lastName ?? null,
        title: lead.title ?? null,
        companyName: lead.companyName ?? null,
        industry: lead.industry ?? null,
        country: lead.country ?? null,
        city: lead.city ?? null,
      },
      senderName: prepared.sender.fromName,
      product: catalogProduct ?? null,
      ...(source === 'website' && site
        ? {
            catalog: prepared.catalog,
            website: { url: site.url, title: site.title, content: site.markdown ?? '' },
          }
        : {}),
      maxTextChars: config.compose.maxTextChars,
    };

    let out: DraftOutput | undefined;
    let model: string | null = null;
    let rejectedBecause: string | undefined;
    for (let attempt = 1; attempt <= 2 && !out; attempt++) {
      const completion = await this.deps.openai.completeJson({
        system: SYSTEM_PROMPT,
        user: buildUserPrompt({ ...promptInput, ...(rejectedBecause ? { rejectedBecause } : {}) }),
        schemaName: 'cold_email',
        schema: DRAFT_JSON_SCHEMA,
      });
      model = completion.model;
      const candidate = parseDraft(completion.content, completion.refusal);
      if ('problem' in candidate) {
        rejectedBecause = candidate.problem;
        continue;
      }
      const problem = draftProblem(candidate.draft, promptInput.lead, candidate.draft.body.length + signature.length, config.compose.maxTextChars);
      if (problem) {
        rejectedBecause = problem;
        continue;
      }
      out = candidate.draft;
    }
    if (!out) {
      return {
        failure: {
          leadId: lead.id,
          code: 'draft_rejected',
          detail: `The AI's draft was rejected twice; last reason: ${rejectedBecause}.`,
        },
      };
    }

    const product =
      catalogProduct?.product ??
      (source === 'website' ? prepared.catalog.find((p) => p.id === out.productId)?.product ?? null : null);
    const body = `${out.body.trim()}${signature}`;
    const footer = await unsubscribeFooter({ config, db: this.deps.db }, req.baseUrl, lead.id, prepared.sender);
    const draft = {
      subject: out.subject.trim(),
      text: `${body}${footer.text}`,
      html: `${textToHtml(body)}\n${footer.html}`,
      product,
      source,
      model,
    };
    const saved = await this.deps.db.call<{ ok: boolean; code?: string; detail?: string; draft?: StoredDraft }>('save_draft', {
      p_lead_id: lead.id,
      p_draft: draft,
      p_regenerate: req.regenerate,
    }, { repeatable: !req.regenerate }); // without regenerate, a lead keeps its first stored draft
    if (!saved.ok || !saved.draft) {
      const code = saved.code ?? 'draft_not_saved';
      return { failure: { leadId: lead.id, code, detail: saved.detail ?? REFUSALS[code] ?? code } };
    }
    return { email: { ...storedEmail(saved.draft), generated: true, ...(website ? { website } : {}) } };
  }

  /** The company website: from the cache, else scraped (once per domain at a time) and cached. */
  private async website(target: string): Promise<WebsiteOutcome & { site?: CachedSite }> {
    const { config, db, firecrawl } = this.deps;
    let url: URL;
    try {
      url = await safePublicUrl(target, { resolve: this.deps.resolveHost, allowedPorts: config.website.allowedPorts });
    } catch (err) {
      if (err instanceof UnsafeUrlError) return { outcome: 'refused', detail: `Not scraped: ${err.message}.` };
      throw err;
    }
    const domain = normalizeDomain(url.hostname) ?? url.hostname;
    const usable = (site: CachedSite) =>
      Boolean(site.markdown && site.markdown.trim() !== '' && (site.statusCode === null || site.statusCode < 400));

    const cached = await db.call<CachedSite | null>('get_company_website', { p_domain: domain });
    if (cached) {
      return usable(cached)
        ? { url: cached.url, outcome: 'cached', site: cached }
        : { url: cached.url, outcome: 'empty', detail: cached.error ?? `The site answered ${cached.statusCode ?? 'nothing usable'}.` };
    }
    if (!firecrawl.configured) {
      return { url: url.href, outcome: 'failed', detail: 'Firecrawl is not configured (FIRECRAWL_API_KEY or FIRECRAWL_API_URL).' };
    }
    let pending = this.scraping.get(domain);
    if (!pending) {
      pending = this.scrape(domain, url.href, usable).finally(() => this.scraping.delete(domain));
      this.scraping.set(domain, pending);
    }
    return pending;
  }

  private async refusal(url: string): Promise<string | undefined> {
    try {
      await safePublicUrl(url, { resolve: this.deps.resolveHost, allowedPorts: this.deps.config.website.allowedPorts });
      return undefined;
    } catch (err) {
      if (err instanceof UnsafeUrlError) return err.message;
      throw err;
    }
  }

  private async scrape(
    domain: string,
    url: string,
    usable: (site: CachedSite) => boolean,
  ): Promise<WebsiteOutcome & { site?: CachedSite }> {
    const { config, db, firecrawl, logger } = this.deps;
    try {
      const page = await firecrawl.scrape(url);
      // A public site may redirect to an internal one: such content is never used or kept.
      const redirectRefusal = page.finalUrl === url ? undefined : await this.refusal(page.finalUrl);
      if (redirectRefusal) {
        const error = `Redirected to a refused address: ${redirectRefusal}.`;
        await db.call('save_company_website', {
          p_site: { domain, url, title: null, markdown: null, statusCode: page.statusCode ?? null, error },
          p_ttl_seconds: config.website.cacheTtlHours * 3600,
        });
        return { url, outcome: 'refused', detail: error };
      }
      const site: CachedSite = {
        url,
        title: page.title ?? null,
        markdown: page.markdown,
        statusCode: page.statusCode ?? null,
        error: page.statusCode !== undefined && page.statusCode >= 400 ? `The site answered ${page.statusCode}.` : null,
      };
      await db.call('save_company_website', {
        p_site: { domain, ...site },
        p_ttl_seconds: config.website.cacheTtlHours * 3600,
      });
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

function storedEmail(d: StoredDraft): Omit<ComposedEmail, 'generated'> {
  return {
    leadId: d.leadId,
    subject: d.subject,
    text: d.text,
    html: d.html,
    product: d.product,
    source: d.source,
    model: d.model,
  };
}

function parseDraft(content: string | null, refusal: string | null): { draft: DraftOutput } | { problem: string } {
  if (refusal) return { problem: `the model refused: ${refusal.slice(0, 200)}` };
  if (!content) return { problem: 'the answer was empty' };
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    return { problem: 'the answer was not the JSON object of the schema' };
  }
  const parsed = DraftOutputSchema.safeParse(json);
  if (!parsed.success) {
    return { problem: `the answer did not match the schema (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})` };
  }
  return { draft: parsed.data };
}
