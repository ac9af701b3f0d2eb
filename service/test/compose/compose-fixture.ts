// Test support for compose: the service wired to the local fakes of OpenAI and
// Firecrawl, with public-looking test domains answered by static DNS.
import type { MigratableDatabase } from '../../src/db/database';
import { startFakeFirecrawl, type FakeFirecrawl, type FakeFirecrawlOptions } from '../../../sandbox/fake-firecrawl';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from '../../../sandbox/fake-openai';
import { startTestService, type TestService } from '../support/test-service';

/** Test domains → public addresses (never contacted: Firecrawl is the fake). */
export const DNS = {
  'acme-lubes.example': '93.184.216.34',
  'www.acme-lubes.example': '93.184.216.34',
  'paintco.example': '93.184.216.35',
  'brokenco.example': '93.184.216.36',
  'evil.example': '93.184.216.37',
  'internal.example': '10.1.2.3',
  'metadata.example': '169.254.169.254',
  'mapped.example': '::ffff:127.0.0.1',
  'ula.example': 'fd12:3456::1',
};

export interface ComposeWorld {
  svc: TestService;
  openai: FakeOpenAI;
  firecrawl: FakeFirecrawl;
  stop(): Promise<void>;
}

export async function startComposeWorld(
  opts: { env?: Record<string, string>; openai?: FakeOpenAIOptions; firecrawl?: FakeFirecrawlOptions } = {},
): Promise<ComposeWorld> {
  const openai = await startFakeOpenAI(opts.openai);
  const firecrawl = await startFakeFirecrawl(opts.firecrawl);
  const svc = await startTestService({
    OPENAI_API_KEY: 'sk-test-compose',
    OPENAI_BASE_URL: openai.baseUrl,
    OPENAI_MODEL: 'gpt-4o-mini',
    OPENAI_RPM: '60000',
    OPENAI_TPM: '100000000',
    OPENAI_RETRY_BASE_MS: '10',
    FIRECRAWL_API_KEY: 'fc-test',
    FIRECRAWL_API_URL: firecrawl.url,
    FIRECRAWL_RETRY_BASE_MS: '10',
    COROFY_DNS_OVERRIDES: Object.entries(DNS).map(([h, ip]) => `${h}=${ip}`).join(','),
    COROFY_PUBLIC_URL: 'https://corofy.test',
    ...opts.env,
  });
  await svc.api('PUT', '/v1/senders/default', { fromName: 'Jane Seller', postalAddress: '1 Harbour Road, Rotterdam, NL' });
  return {
    svc,
    openai,
    firecrawl,
    stop: async () => {
      await svc.stop();
      await openai.close();
      await firecrawl.close();
    },
  };
}

/** Runs SQL on the service's database (arranging states no endpoint of this capability sets). */
export async function sql(svc: TestService, text: string): Promise<void> {
  await (svc.deps.db as MigratableDatabase).migrate(async (exec) => {
    await exec(text);
  });
}

export { importLeadRecords as importLeads } from '../support/leads';

/** The JSON data block of a prompt the fake received. */
export function promptData(user: string): any {
  return JSON.parse(user.slice(user.indexOf('```json\n') + 8, user.lastIndexOf('\n```')));
}
