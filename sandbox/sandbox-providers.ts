// Local fakes of Apollo, OpenAI and Firecrawl started in the service's process,
// and the configuration that points its providers at them, so the whole
// pipeline runs on a laptop with no account anywhere. `npm run sandbox`
// (sandbox/main.ts) and `npm run demo` use them; the service never imports
// this folder.
import type { Config } from '../service/src/config/env';
import type { Database } from '../service/src/db/database';
import { startFakeApollo } from './fake-apollo';
import { startFakeFirecrawl } from './fake-firecrawl';
import { startFakeOpenAI } from './fake-openai';

/** A public address the SSRF guard accepts; never dialled: in sandbox mode every scrape goes to the fake Firecrawl. */
const SANDBOX_SITE_ADDRESS = '93.184.215.14';

export interface SandboxProviders {
  config: Config;
  close(): Promise<void>;
}

/** The company the sandbox's emails speak for: one that sells what the default catalog lists. */
export const SANDBOX_PROFILE = {
  companyName: 'Nordhafen Chemie (sandbox)',
  offer:
    'Specialty chemical additives for lubricants, coatings, plastics and water treatment, blended in Hamburg and shipped across Europe within five working days.',
  whyCustomersBuy: 'Consistent batches with full documentation, chemists on the phone, and small minimum orders.',
  tone: 'plain, concrete and friendly',
  avoidPhrases: ['I hope this email finds you well', 'synergy'],
  language: 'recipient',
};

/** Gives the default sender the sandbox company's profile unless someone already set one. */
export async function seedSandboxProfile(db: Database): Promise<void> {
  const current = await db.call<{ updatedAt: string | null }>('get_sender_profile', { p_sender: 'default' });
  if (current.updatedAt === null) await db.call('put_sender_profile', { p_sender: 'default', p_profile: SANDBOX_PROFILE });
}

export async function startSandboxProviders(config: Config): Promise<SandboxProviders> {
  const apolloKey = 'sandbox-apollo-key';
  const apollo = await startFakeApollo({ seed: 7, people: 5000, credits: 100_000, apiKey: apolloKey });
  // OpenAI's tier-1 limits for gpt-4o-mini (500 requests, 200k tokens a minute): the
  // sandbox paces like a typical paid account, so a demo day takes as long as a real one.
  const openai = await startFakeOpenAI({ rpm: 500, tpm: 200_000 });
  const firecrawl = await startFakeFirecrawl({});

  // The fake companies' domains must pass the SSRF guard without a DNS server.
  const dnsOverrides: Record<string, string[]> = { ...config.website.dnsOverrides };
  for (const person of apollo.state.people) {
    for (const host of [person.organization.primary_domain, `www.${person.organization.primary_domain}`]) {
      dnsOverrides[host] ??= [SANDBOX_SITE_ADDRESS];
    }
  }

  return {
    config: {
      ...config,
      apollo: { ...config.apollo, apiKey: apolloKey, baseUrl: apollo.url },
      openai: { ...config.openai, apiKey: 'sandbox-openai-key', baseUrl: `${openai.url}/v1` },
      firecrawl: { ...config.firecrawl, apiKey: 'sandbox-firecrawl-key', apiUrl: firecrawl.url },
      website: { ...config.website, dnsOverrides },
    },
    close: async () => {
      await Promise.all([apollo.close(), openai.close(), firecrawl.close()]);
    },
  };
}
