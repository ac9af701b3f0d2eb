import type OpenAI from 'openai';
import type { APIError } from 'openai';
import type { Logger } from '../app/logger';
import { parseDuration, RateLimiter, sleep, type RateLimitHeaders } from './rate-limiter';

// The OpenAI client with our own retry policy (the SDK's is off: it would retry
// insufficient_quota and ignore long retry-after values). Every request passes
// the process-wide limiter first.

export interface OpenAIClientOptions {
  apiKey: string | undefined;
  baseUrl: string;
  model: string;
  rpm: number;
  tpm: number;
  maxRetries: number;
  retryBaseMs: number;
  timeoutMs: number;
  maxOutputTokens: number;
}

export type OpenAIErrorCode =
  | 'openai_not_configured'
  | 'openai_insufficient_quota'
  | 'openai_unauthorized'
  | 'openai_forbidden'
  | 'openai_model_not_found'
  | 'openai_rate_limited'
  | 'openai_unavailable'
  | 'openai_bad_request';

/**
 * A failure talking to OpenAI. `stopsCall` marks the ones no other lead of the
 * call can succeed past (billing, key, model): the route turns them into problems.
 */
export class OpenAIProviderError extends Error {
  override name = 'OpenAIProviderError';
  constructor(
    readonly code: OpenAIErrorCode,
    readonly httpStatus: 402 | 429 | 502 | 503,
    message: string,
    readonly stopsCall: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface JsonCompletionRequest {
  system: string;
  user: string;
  schemaName: string;
  /** A strict JSON schema (every property required, additionalProperties false). */
  schema: Record<string, unknown>;
}

export interface JsonCompletion {
  /** The message content (JSON text), or null when the model refused. */
  content: string | null;
  refusal: string | null;
  model: string;
  attempts: number;
  /** What the provider counted for this request (0 when it sent no usage). */
  usage: { promptTokens: number; completionTokens: number };
}

export interface OpenAIStats {
  requests: number;
  rateLimited: number;
  serverErrors: number;
}

export class OpenAIClient {
  readonly limiter: RateLimiter;
  readonly stats: OpenAIStats = { requests: 0, rateLimited: 0, serverErrors: 0 };
  private sdkInstance: OpenAI | undefined;
  /**
   * Completion tokens of the answers so far (for the limiter's booking). A request is
   * booked at its prompt plus what answers have cost on average, not plus the whole
   * max_completion_tokens: the booking is settled to the real usage only when the
   * answer comes, and booking the maximum held every request ~2x too long in the
   * pacing meanwhile (the demo's compose ran at 56 % of the token limit).
   */
  private completions = { count: 0, tokens: 0 };

  constructor(
    private readonly options: OpenAIClientOptions,
    private readonly logger: Logger,
  ) {
    this.limiter = new RateLimiter({ rpm: options.rpm, tpm: options.tpm });
  }

  /** The SDK, built on the first completion: it weighs ~20 MB a service that never composes need not carry. */
  private get sdk(): OpenAI | undefined {
    if (!this.options.apiKey) return undefined;
    const { options } = this;
    return (this.sdkInstance ??= new (loadOpenAI().default)({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      maxRetries: 0,
      timeout: options.timeoutMs,
    }));
  }

  get configured(): boolean {
    return Boolean(this.options.apiKey);
  }

  get model(): string {
    return this.options.model;
  }

  /** One chat completion with structured output, paced and retried by our policy. */
  async completeJson(req: JsonCompletionRequest): Promise<JsonCompletion> {
    const sdk = this.sdk;
    if (!sdk) {
      throw new OpenAIProviderError(
        'openai_not_configured',
        503,
        'OpenAI is not configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible endpoint).',
        true,
      );
    }
    const expectedCompletion =
      this.completions.count === 0
        ? this.options.maxOutputTokens
        : Math.min(this.options.maxOutputTokens, Math.ceil(this.completions.tokens / this.completions.count));
    const estimated = Math.ceil((req.system.length + req.user.length) / 4) + expectedCompletion;
    for (let attempt = 1; ; attempt++) {
      await this.limiter.acquire(estimated);
      this.stats.requests++;
      try {
        const { data, response } = await sdk.chat.completions
          .create({
            model: this.options.model,
            messages: [
              { role: 'system', content: req.system },
              { role: 'user', content: req.user },
            ],
            max_completion_tokens: this.options.maxOutputTokens,
            response_format: {
              type: 'json_schema',
              json_schema: { name: req.schemaName, strict: true, schema: req.schema },
            },
          })
          .withResponse();
        this.limiter.observe(readRateLimitHeaders(response.headers));
        this.limiter.settle(estimated, data.usage?.total_tokens ?? estimated);
        if (data.usage) {
          this.completions.count++;
          this.completions.tokens += data.usage.completion_tokens;
        }
        const message = data.choices[0]?.message;
        return {
          content: message?.content ?? null,
          refusal: message?.refusal ?? null,
          model: data.model || this.options.model,
          attempts: attempt,
          usage: { promptTokens: data.usage?.prompt_tokens ?? 0, completionTokens: data.usage?.completion_tokens ?? 0 },
        };
      } catch (err) {
        const retryInMs = this.classify(err, attempt);
        this.logger.warn(
          { attempt, retryInMs, status: (err as APIError).status, code: (err as APIError).code },
          'openai request failed; retrying',
        );
        await sleep(retryInMs);
      }
    }
  }

  /** Throws the error to report, or returns how long to wait before the next attempt. */
  private classify(err: unknown, attempt: number): number {
    if (!(err instanceof loadOpenAI().APIError)) throw err;
    if (err.headers) this.limiter.observe(readRateLimitHeaders(err.headers));
    const status = err.status;
    const code = err.code ?? undefined;
    const type = err.type ?? undefined;
    const canRetry = attempt <= this.options.maxRetries;
    const backoff = this.options.retryBaseMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);

    if (status === 429 && (code === 'insufficient_quota' || type === 'insufficient_quota')) {
      throw new OpenAIProviderError(
        'openai_insufficient_quota',
        402,
        'OpenAI says the account has no quota left (insufficient_quota): add credits or raise the usage limit at platform.openai.com, then compose again.',
        true,
      );
    }
    if (status === 401) {
      throw new OpenAIProviderError(
        'openai_unauthorized',
        502,
        'OpenAI rejected the API key (401): check OPENAI_API_KEY.',
        true,
      );
    }
    if (status === 403) {
      throw new OpenAIProviderError(
        'openai_forbidden',
        502,
        `OpenAI refused the request (403${code ? `, ${code}` : ''}): the key, project or region may not have access to ${this.options.model}.`,
        true,
      );
    }
    if (status === 404) {
      throw new OpenAIProviderError(
        'openai_model_not_found',
        502,
        `OpenAI does not know the model "${this.options.model}" (404): check OPENAI_MODEL.`,
        true,
      );
    }
    if (status === 429) {
      this.stats.rateLimited++;
      const wait = retryAfterMs(err.headers) ?? backoff;
      this.limiter.pauseFor(wait);
      if (!canRetry) {
        throw new OpenAIProviderError(
          'openai_rate_limited',
          429,
          `OpenAI kept answering 429 rate_limit_exceeded after ${attempt} attempts; lower OPENAI_RPM/OPENAI_TPM or compose fewer leads at once.`,
          false,
          wait,
        );
      }
      return wait;
    }
    if (status === undefined || status === 408 || status === 409 || status >= 500) {
      this.stats.serverErrors++;
      if (!canRetry) {
        throw new OpenAIProviderError(
          'openai_unavailable',
          502,
          `OpenAI did not answer successfully after ${attempt} attempts (${status ?? 'no response'}): try again later.`,
          false,
        );
      }
      return Math.max(backoff, retryAfterMs(err.headers) ?? 0);
    }
    throw new OpenAIProviderError(
      'openai_bad_request',
      502,
      `OpenAI rejected the request (${status}${code ? `, ${code}` : ''}): ${err.message}`,
      false,
    );
  }
}

function header(headers: Headers | undefined, name: string): string | undefined {
  return headers?.get(name) ?? undefined;
}

function num(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export function readRateLimitHeaders(headers: Headers | undefined): RateLimitHeaders {
  return {
    limitRequests: num(header(headers, 'x-ratelimit-limit-requests')),
    limitTokens: num(header(headers, 'x-ratelimit-limit-tokens')),
    remainingRequests: num(header(headers, 'x-ratelimit-remaining-requests')),
    remainingTokens: num(header(headers, 'x-ratelimit-remaining-tokens')),
    resetRequestsMs: parseDuration(header(headers, 'x-ratelimit-reset-requests')),
    resetTokensMs: parseDuration(header(headers, 'x-ratelimit-reset-tokens')),
  };
}

/** retry-after-ms, then retry-after (seconds or an HTTP date), then the reset headers. */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = num(header(headers, 'retry-after-ms'));
  if (ms !== undefined && ms >= 0) return ms;
  const ra = header(headers, 'retry-after');
  if (ra !== undefined) {
    const seconds = num(ra);
    if (seconds !== undefined && seconds >= 0) return seconds * 1000;
    const date = Date.parse(ra);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  const h = readRateLimitHeaders(headers);
  const resets = [
    h.remainingRequests !== undefined && h.remainingRequests < 1 ? h.resetRequestsMs : undefined,
    h.remainingTokens !== undefined && h.remainingTokens < 1 ? h.resetTokensMs : undefined,
  ].filter((v): v is number => v !== undefined);
  return resets.length > 0 ? Math.max(...resets) : undefined;
}

function loadOpenAI(): typeof import('openai') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('openai') as typeof import('openai');
}
