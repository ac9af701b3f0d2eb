// Test support: an HTTP proxy in front of a provider fake that, with a seeded
// random draw per request, answers 429 (with retry-after), a 5xx, never answers
// (the client's timeout), or resets the connection; otherwise it forwards.
// Faults happen before the fake sees the request, so the fake's own accounting
// (Apollo credits) stays the truth to compare with.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ChaosFault = '429' | '500' | '502' | '503' | 'timeout' | 'reset';

export interface ChaosProxy {
  url: string;
  faults: Record<ChaosFault, number>;
  forwarded: number;
  close(): Promise<void>;
}

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startChaosProxy(target: string, { seed, rate }: { seed: number; rate: number }): Promise<ChaosProxy> {
  const random = seededRandom(seed);
  const kinds: ChaosFault[] = ['429', '500', '502', '503', 'timeout', 'reset'];
  const faults = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<ChaosFault, number>;
  const held = new Set<http.ServerResponse>();
  const proxy: ChaosProxy = { url: '', faults, forwarded: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const fault = random() < rate ? kinds[Math.floor(random() * kinds.length)]! : undefined;
    if (fault) faults[fault]++;
    if (fault === 'reset') return req.socket.destroy();
    if (fault === 'timeout') {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (fault) {
      res.writeHead(Number(fault), { 'content-type': 'application/json', ...(fault === '429' ? { 'retry-after': '0' } : {}) });
      return res.end(JSON.stringify(fault === '429' ? { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' }, message: 'Too many requests' } : { error: 'upstream trouble' }));
    }
    proxy.forwarded++;
    const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((r) => {
      for (const res of held) res.destroy();
      server.close(() => r());
      server.closeAllConnections();
    });
  return proxy;
}
