import type { Logger } from '../app/logger';
import type { Config } from '../config/env';
import { resolverWithOverrides, type HostResolver } from '../compose/safe-url';
import { FirecrawlClient } from './firecrawl-client';
import { OpenAIClient } from './openai-client';

export interface ComposeProviders {
  /** One per process: its limiter paces every OpenAI request of the process. */
  openai: OpenAIClient;
  firecrawl: FirecrawlClient;
  /** DNS for the SSRF guard (COROFY_DNS_OVERRIDES answer first; their addresses are checked like any). */
  resolveHost: HostResolver;
}

export function createComposeProviders(config: Config, logger: Logger): ComposeProviders {
  return {
    openai: new OpenAIClient(
      {
        apiKey: config.openai.apiKey,
        baseUrl: config.openai.baseUrl,
        model: config.openai.model,
        ...config.openaiLimits,
      },
      logger.child({ provider: 'openai' }),
    ),
    firecrawl: new FirecrawlClient(
      { apiKey: config.firecrawl.apiKey, apiUrl: config.firecrawl.apiUrl, maxChars: config.website.maxChars, ...config.firecrawlPolicy },
      logger.child({ provider: 'firecrawl' }),
    ),
    resolveHost: resolverWithOverrides(config.website.dnsOverrides),
  };
}
