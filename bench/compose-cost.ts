// Compose cost benchmark: what one email costs in tokens, as the fake OpenAI
// counts them (o200k_base, the way OpenAI bills a chat request: messages,
// framing and the structured-output schema). Three kinds of email:
//   catalog        the lead's industry names a catalog product
//   website        the first lead of a company domain: its page goes to the model
//   websiteCached  a later lead of that domain: only the short company profile does
// Senders have a full company profile (name, offer, reasons, tone, phrases to
// avoid); half the leads are written in German. Prints one JSON object.
//   node --import tsx bench/compose-cost.ts
// Knobs: BENCH_DOMAINS (companies with a website, default 10), BENCH_LEADS_PER_DOMAIN
// (default 4), BENCH_CATALOG_LEADS (default 40), BENCH_PAGE_CHARS (page size, default 20000).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../service/src/app/logger';
import { loadConfig } from '../service/src/config/env';
import { startService } from '../service/src/server';
import { startFakeFirecrawl } from '../sandbox/fake-firecrawl';
import { startFakeOpenAI } from '../sandbox/fake-openai';

const DOMAINS = Number(process.env.BENCH_DOMAINS ?? 10);
const PER_DOMAIN = Number(process.env.BENCH_LEADS_PER_DOMAIN ?? 4);
const CATALOG_LEADS = Number(process.env.BENCH_CATALOG_LEADS ?? 40);
const PAGE_CHARS = Number(process.env.BENCH_PAGE_CHARS ?? 20_000);
const KEY = 'bench-api-key-0123456789abcdef';
/** Goals from issue 19 (tokens per email, prompt + completion). */
const GOALS = { catalog: 900, website: 2500, websiteCached: 1000 };
/** A real model's answer at the prompt's upper bound: 150 words, a subject, the JSON and a 3-sentence summary. */
const LONGEST_COMPLETION = 320;

const PROFILE = {
  companyName: 'Nordhafen Chemie',
  offer:
    'Nordhafen Chemie makes specialty additives for lubricants, coatings, plastics and water treatment, blended in Hamburg and shipped across Europe within five working days.',
  whyCustomersBuy: 'Consistent batches with full documentation, technical support from chemists, and small minimum orders.',
  tone: 'plain, concrete and friendly; no hype',
  avoidPhrases: ['I hope this email finds you well', 'synergy', 'revolutionary'],
  language: 'recipient',
};

function companyPage(i: number): string {
  const paragraphs = [
    `# Company ${i} GmbH — industrial lubricants since 19${(50 + i) % 100}`,
    `Company ${i} blends industrial greases, gear oil and hydraulic fluid for mining, marine and steel customers in twelve countries. Our plant in Duisburg runs three shifts and fills drums, IBCs and bulk tankers.`,
    '## What we make',
    '- Lithium and calcium sulfonate greases for heavy equipment\n- Biodegradable hydraulic fluid for offshore use\n- Gear oils to DIN 51517 part 3',
    '## Quality',
    'Every batch is tested in our own laboratory for viscosity, oxidation stability and wear protection before it leaves the plant. We are certified to ISO 9001 and ISO 14001.',
    '## News',
    `Company ${i} opened a new warehouse in Rotterdam this spring to shorten delivery times to Benelux customers. Read more about our sustainability report and our apprenticeship programme.`,
  ];
  let page = paragraphs.join('\n\n');
  const filler =
    '\n\nOur customers rely on us for consistent quality, fast delivery and honest technical advice. Contact our sales team for data sheets, samples and pricing.';
  while (page.length < PAGE_CHARS) page += filler;
  return page.slice(0, PAGE_CHARS);
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}

async function main() {
  const pages = Object.fromEntries(Array.from({ length: DOMAINS }, (_, i) => [`company${i}.example`, { title: `Company ${i} GmbH`, markdown: companyPage(i) }]));
  const openai = await startFakeOpenAI();
  const firecrawl = await startFakeFirecrawl({ pages });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-bench-cost-'));
  const config = loadConfig({
    PORT: '0',
    COROFY_API_KEY: KEY,
    COROFY_DATA_DIR: dataDir,
    COROFY_SWEEP_INTERVAL_MS: '0',
    LOG_LEVEL: 'silent',
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: openai.baseUrl,
    OPENAI_TPM: '100000000',
    OPENAI_RPM: '100000',
    FIRECRAWL_API_KEY: 'fc-bench',
    FIRECRAWL_API_URL: firecrawl.url,
    COROFY_DNS_OVERRIDES: Object.keys(pages).map((d, i) => `${d}=93.184.216.${10 + i}`).join(','),
  });
  const svc = await startService(config, createLogger('silent'));
  const api = async (method: string, p: string, body: unknown) => {
    const res = await fetch(`${svc.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${json.code}: ${json.detail}`);
    return json;
  };
  try {
    await api('PUT', '/v1/senders/default', { fromName: 'Jana Peters', postalAddress: 'Nordhafen Chemie GmbH, Kaiser-Wilhelm-Str. 5, 20355 Hamburg' });
    await api('PUT', '/v1/senders/default/profile', PROFILE);

    const industries = ['Lubricants', 'Paints & Coatings', 'Plastics', 'Water Treatment'];
    const catalogLeads = Array.from({ length: CATALOG_LEADS }, (_, i) => ({
      email: `buyer${i}@catalog${i}.example`,
      firstName: i % 2 ? 'Anna' : 'James',
      lastName: i % 2 ? 'Schneider' : 'Walker',
      title: 'Head of Procurement',
      companyName: `Catalog Customer ${i}`,
      industry: industries[i % industries.length],
      country: i % 2 ? 'DE' : 'GB',
      city: i % 2 ? 'Köln' : 'Leeds',
    }));
    const websiteLeads = Array.from({ length: DOMAINS * PER_DOMAIN }, (_, k) => {
      const d = k % DOMAINS;
      const n = Math.floor(k / DOMAINS);
      return {
        email: `person${n}@company${d}.example`,
        firstName: ['Lukas', 'Sophie', 'Emma', 'Noah'][n % 4],
        lastName: 'Becker',
        title: 'Purchasing Manager',
        companyName: `Company ${d} GmbH`,
        companyDomain: `company${d}.example`,
        industry: 'Mining & Metals',
        country: d % 2 ? 'DE' : 'NL',
      };
    });
    const catalogIds: string[] = (await api('POST', '/v1/leads/import', { leads: catalogLeads })).leadIds;
    const websiteIds: string[] = (await api('POST', '/v1/leads/import', { leads: websiteLeads })).leadIds;

    type Email = { leadId: string; source: string; tokens: { prompt: number; completion: number; total: number }; website?: { outcome: string } };
    const emails: Email[] = [];
    const failed: { code: string }[] = [];
    for (const ids of [catalogIds, websiteIds]) {
      for (let i = 0; i < ids.length; i += 50) {
        const r = await api('POST', '/v1/compose', { leadIds: ids.slice(i, i + 50) });
        emails.push(...r.emails);
        failed.push(...r.failed);
      }
    }
    const catalog = emails.filter((e) => e.source === 'catalog');
    // the first lead of a domain sent the page; the others got its summary
    const sentPage = new Set(
      openai.state.requests.filter((q) => q.status === 200 && q.user.includes('"content":')).map((q) => q.user),
    ).size;
    const websiteEmails = emails.filter((e) => e.source === 'website');
    const byCost = [...websiteEmails].sort((a, b) => b.tokens.total - a.tokens.total);
    const first = byCost.slice(0, sentPage);
    const cached = byCost.slice(sentPage);

    // the service's numbers are the provider's
    const counted = openai.state.requests.filter((q) => q.status === 200).reduce((n, q) => n + q.promptTokens + q.completionTokens, 0);
    const reported = emails.reduce((n, e) => n + e.tokens.total, 0);
    const stats = await fetch(`${svc.url}/v1/stats`, { headers: { authorization: `Bearer ${KEY}` } }).then((r) => r.json() as Promise<any>);

    const result = {
      benchmark: 'compose-cost',
      tokenizer: 'o200k_base',
      tokensPerCatalogEmail: mean(catalog.map((e) => e.tokens.total)),
      tokensPerWebsiteEmail: mean(first.map((e) => e.tokens.total)),
      tokensPerWebsiteEmailCached: mean(cached.map((e) => e.tokens.total)),
      promptTokens: {
        catalog: mean(catalog.map((e) => e.tokens.prompt)),
        website: mean(first.map((e) => e.tokens.prompt)),
        websiteCached: mean(cached.map((e) => e.tokens.prompt)),
      },
      completionTokens: {
        catalog: mean(catalog.map((e) => e.tokens.completion)),
        website: mean(first.map((e) => e.tokens.completion)),
        websiteCached: mean(cached.map((e) => e.tokens.completion)),
      },
      goals: GOALS,
      // the fake writes ~70 words; a real model may write up to 150 plus the summary
      goalsMetWithLongestCompletion: {
        catalog: mean(catalog.map((e) => e.tokens.prompt)) + LONGEST_COMPLETION <= GOALS.catalog,
        website: mean(first.map((e) => e.tokens.prompt)) + LONGEST_COMPLETION <= GOALS.website,
        websiteCached: mean(cached.map((e) => e.tokens.prompt)) + LONGEST_COMPLETION <= GOALS.websiteCached,
      },
      emails: { catalog: catalog.length, websiteFirst: first.length, websiteCached: cached.length, failed: failed.length },
      pagesSentToModel: sentPage,
      domains: DOMAINS,
      pageChars: PAGE_CHARS,
      scrapes: firecrawl.state.scrapes.length,
      providerCountedTokens: counted,
      serviceReportedTokens: reported,
      statsTotalTokens: stats.compose.totalTokens,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await svc.close();
    await openai.close();
    await firecrawl.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
