// Compose rate benchmark: the service composes BENCH_LEADS leads against the
// fake OpenAI limited to BENCH_RPM requests/minute (a continuously refilling
// budget with almost no burst, so only an evenly paced client avoids 429s).
// The service's limiter is configured to the same RPM. Reports the achieved
// rate against the limit, 429s seen by the provider and by the caller, and
// compose-call latency. Prints one JSON object.
//   node --import tsx bench/compose-rate.ts                       (120 RPM, 300 leads: ~2.5 min)
//   BENCH_RPM=1200 node --import tsx bench/compose-rate.ts        (scaled: ~15 s)
// Other knobs: BENCH_LEADS, BENCH_LATENCY_MS (fake model latency, default 800),
// BENCH_CALL_SIZE (leads per POST /v1/compose, default 50), BENCH_PARALLEL_CALLS (default 2),
// BENCH_BURST (the fake's burst capacity, default 2), COMPOSE_CONCURRENCY (default 16).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../service/src/app/logger';
import { loadConfig } from '../service/src/config/env';
import { startService } from '../service/src/server';
import { startFakeOpenAI } from '../sandbox/fake-openai';

const RPM = Number(process.env.BENCH_RPM ?? 120);
const LEADS = Number(process.env.BENCH_LEADS ?? 300);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 800);
const CALL_SIZE = Number(process.env.BENCH_CALL_SIZE ?? 50);
const PARALLEL_CALLS = Number(process.env.BENCH_PARALLEL_CALLS ?? 2);
const BURST = Number(process.env.BENCH_BURST ?? 2);
const CONCURRENCY = process.env.COMPOSE_CONCURRENCY ?? '16';
const KEY = 'bench-api-key-0123456789abcdef';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
}

async function main() {
  const fake = await startFakeOpenAI({ rpm: RPM, burst: BURST, latencyMs: LATENCY_MS });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-bench-compose-'));
  const config = loadConfig({
    PORT: '0',
    COROFY_API_KEY: KEY,
    COROFY_DATA_DIR: dataDir,
    COROFY_SWEEP_INTERVAL_MS: '0',
    LOG_LEVEL: 'silent',
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_RPM: String(RPM),
    OPENAI_TPM: '100000000',
    COMPOSE_CONCURRENCY: CONCURRENCY,
  });
  const svc = await startService(config, createLogger('silent'));
  const api = async (method: string, p: string, body: unknown) => {
    const res = await fetch(`${svc.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  try {
    await api('PUT', '/v1/senders/default', { fromName: 'Bench Sender', postalAddress: '1 Bench St' });
    const leads = Array.from({ length: LEADS }, (_, i) => ({
      email: `lead${i}@company${i}.example`,
      firstName: `Lead${i}`,
      companyName: `Company ${i}`,
      industry: i % 5 === 4 ? 'Hospitality' : 'Lubricants',
    }));
    const imported = await api('POST', '/v1/leads/import', { leads });
    const ids: string[] = imported.body.leadIds;

    const calls: string[][] = [];
    for (let i = 0; i < ids.length; i += CALL_SIZE) calls.push(ids.slice(i, i + CALL_SIZE));
    const callLatencies: number[] = [];
    let composed = 0;
    let callerRateLimited = 0;
    const otherFailures: Record<string, number> = {};
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: PARALLEL_CALLS }, async () => {
        while (next < calls.length) {
          const leadIds = calls[next++]!;
          const started = performance.now();
          const r = await api('POST', '/v1/compose', { leadIds });
          callLatencies.push(performance.now() - started);
          if (r.status === 429) callerRateLimited += leadIds.length;
          else if (r.status !== 200) otherFailures[`http_${r.status}_${r.body.code}`] = (otherFailures[`http_${r.status}_${r.body.code}`] ?? 0) + 1;
          else {
            composed += r.body.emails.length;
            for (const f of r.body.failed as { code: string }[]) {
              if (f.code === 'openai_rate_limited') callerRateLimited++;
              else otherFailures[f.code] = (otherFailures[f.code] ?? 0) + 1;
            }
          }
        }
      }),
    );
    const elapsedMs = performance.now() - t0;
    const ok = fake.state.requests.filter((q) => q.status === 200).map((q) => q.at);
    const providerSpanMs = ok.length > 1 ? Math.max(...ok) - Math.min(...ok) : 0;
    const achievedRpm = (composed / elapsedMs) * 60_000;
    const result = {
      benchmark: 'compose-rate',
      configuredRpm: RPM,
      providerLimitRpm: RPM,
      providerBurst: BURST,
      modelLatencyMs: LATENCY_MS,
      leads: LEADS,
      composed,
      callSize: CALL_SIZE,
      parallelCalls: PARALLEL_CALLS,
      composeConcurrency: Number(CONCURRENCY),
      elapsedSeconds: Math.round(elapsedMs / 100) / 10,
      achievedRpm: Math.round(achievedRpm * 10) / 10,
      achievedToLimit: Math.round((achievedRpm / RPM) * 1000) / 1000,
      // between the first and the last successful request, as the provider saw them
      providerSideRpm: providerSpanMs > 0 ? Math.round(((ok.length - 1) / providerSpanMs) * 60_000 * 10) / 10 : null,
      providerRequests: fake.state.requests.length,
      provider429s: fake.state.rateLimited,
      caller429s: callerRateLimited,
      otherFailures,
      callLatencyMs: { p50: percentile(callLatencies, 50), p95: percentile(callLatencies, 95), max: percentile(callLatencies, 100) },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await svc.close();
    await fake.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
