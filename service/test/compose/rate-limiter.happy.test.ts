import { parseDuration, RateLimiter } from '../../src/providers/rate-limiter';
import { readRateLimitHeaders } from '../../src/providers/openai-client';

test.each([
  ['1s', 1000],
  ['6m0s', 360_000],
  ['12ms', 12],
  ['1.5s', 1500],
  ['1h2m3s', 3_723_000],
  ['20', 20_000],
])('OpenAI duration %s is %d ms', (value, ms) => expect(parseDuration(value)).toBe(ms));

test.each([[''], ['soon'], ['1x'], [undefined]])('an unreadable duration (%s) is undefined', (value) =>
  expect(parseDuration(value)).toBeUndefined(),
);

test('the headers lower the limits below the configured ones, never raise them', () => {
  const limiter = new RateLimiter({ rpm: 5000, tpm: 2_000_000 });
  const headers = new Headers({
    'x-ratelimit-limit-requests': '500',
    'x-ratelimit-limit-tokens': '200000',
    'x-ratelimit-remaining-requests': '499',
    'x-ratelimit-remaining-tokens': '199000',
    'x-ratelimit-reset-requests': '120ms',
    'x-ratelimit-reset-tokens': '300ms',
  });
  expect(readRateLimitHeaders(headers)).toEqual({
    limitRequests: 500,
    limitTokens: 200_000,
    remainingRequests: 499,
    remainingTokens: 199_000,
    resetRequestsMs: 120,
    resetTokensMs: 300,
  });
  limiter.observe(readRateLimitHeaders(headers));
  expect(limiter.limits).toEqual({ rpm: 500, tpm: 200_000 });
  limiter.observe({ limitRequests: 10_000, limitTokens: 10_000_000 });
  expect(limiter.limits).toEqual({ rpm: 500, tpm: 200_000 });
});

test('an empty request budget holds every caller until one request is free again', async () => {
  let now = 0;
  const limiter = new RateLimiter({ rpm: 60_000, tpm: 1_000_000_000 }, () => now);
  // 120 RPM, nothing left, full in 60 s: one request is free after 0.5 s.
  limiter.observe({ limitRequests: 120, remainingRequests: 0, resetRequestsMs: 60_000 });
  let started = false;
  const turn = limiter.acquire(1).then(() => {
    started = true;
  });
  await new Promise((r) => setTimeout(r, 20));
  expect(started).toBe(false);
  now = 600;
  await turn;
  expect(started).toBe(true);
});
