// `npm run demo` as CI runs it (not a terminal): the shipped daily pipeline in
// n8n's engine against the sandbox service; it must exit 0, and its summary must
// equal what GET /v1/stats says afterwards, asked of a fresh service on the
// demo's own database.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../service/src/app/logger';
import { loadConfig } from '../../service/src/config/env';
import { startService } from '../../service/src/server';

const ROOT = path.resolve(__dirname, '..', '..');
jest.setTimeout(300_000);

test('the demo exits 0 outside a terminal and its summary adds up and equals GET /v1/stats', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corofy-demo-'));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox/demo.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, DEMO_QUOTA: '20', DEMO_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ code, err }).toEqual({ code: 0, err: '' });

    // progress for every node of the shipped workflow, one bar per lead-wise step
    for (const node of ['Quota Left Today', 'Apollo Search', 'Claim Daily Batch', 'Compose Email', 'Timezone Gate', 'Send Email', 'Report Sent']) {
      expect(out).toMatch(new RegExp(`✓ ${node}\\s`));
    }
    expect(out).toMatch(/Compose Email\s+\[#+\] 20\/20/);
    expect(out).toContain("The gate's decisions by recipient time zone:");
    const summary = JSON.parse(/^summary (.*)$/m.exec(out)![1]!);
    const { pipeline, days, caught } = summary;
    expect(pipeline.claimed).toBe(20);
    expect(pipeline.sentNow + pipeline.scheduled + pipeline.failed + pipeline.cancelled).toBe(pipeline.claimed);
    expect(caught).toBe(pipeline.sentNow);

    // the service's own numbers, read again from the demo's database
    const config = loadConfig({ COROFY_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', COROFY_SWEEP_INTERVAL_MS: '0' });
    const svc = await startService(config, createLogger('silent'));
    try {
      const stats = await Promise.all(
        (days as string[]).map(async (d) =>
          (await fetch(`${svc.url}/v1/stats?day=${d}`, { headers: { authorization: `Bearer ${svc.apiKey}` } })).json() as Promise<any>,
        ),
      );
      const sum = (k: string) => stats.reduce((a, s) => a + s[k], 0);
      expect(stats[0].batchedLeads).toBe(pipeline.claimed);
      expect(sum('sent') + sum('sending')).toBe(pipeline.sentNow);
      expect(sum('scheduled')).toBe(pipeline.scheduled);
      expect(stats[0].claimed + sum('failed') + sum('dead') + sum('needsReview')).toBe(pipeline.failed);
      expect(sum('cancelled')).toBe(pipeline.cancelled);
      // where the time went: every node of the run, and compose's tokens as the service counted them
      const { timing } = summary;
      expect(Object.keys(timing.nodes)).toEqual(expect.arrayContaining(['Compose Email', 'Timezone Gate', 'Send Email']));
      expect(timing.compose).toMatchObject({ requests: stats[0].compose.requests, tokens: stats[0].compose.totalTokens });
      expect(timing.compose.tokens).toBeGreaterThan(0);
      expect(timing.compose.tpmFloorSeconds).toBeCloseTo((timing.compose.tokens / 200_000) * 60, 0);
    } finally {
      await svc.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
