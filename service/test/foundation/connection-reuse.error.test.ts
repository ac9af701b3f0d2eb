// Node clients (n8n included) reuse connections. An answer given before the
// request's body was read (413: the body is over the limit) must leave the
// connection usable for the next request, or say `Connection: close` so the
// client opens a new one; it must never say keep-alive and then drop the socket.
import http from 'node:http';
import { startTestService, TEST_API_KEY, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ COROFY_BODY_LIMIT_BYTES: '4096' });
});
afterAll(async () => {
  await svc?.stop();
});

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
  socket: unknown;
}

function request(agent: http.Agent, method: string, path: string, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${svc.url}${path}`,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${TEST_API_KEY}`,
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, connection: res.headers.connection, body: Buffer.concat(chunks).toString(), socket: req.socket }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test.each([
  ['just over the limit', 4097],
  ['many times the limit', 4 * 1024 * 1024],
])('after a 413 (%s) the next request on a keep-alive client succeeds, every time', async (_what, size) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const big = JSON.stringify({ fromName: 'x'.repeat(size) });
    for (let round = 0; round < 10; round++) {
      const tooLarge = await request(agent, 'PUT', '/v1/senders/default', big);
      expect(tooLarge.status).toBe(413);
      expect(JSON.parse(tooLarge.body).code).toBe('payload_too_large');
      // a connection the service will not read further is announced as closed
      expect(tooLarge.connection).toBe('close');
      const next = await request(agent, 'PUT', '/v1/senders/default', JSON.stringify({ dailyQuota: 100 + round }));
      expect(next.status).toBe(200);
      expect(JSON.parse(next.body).dailyQuota).toBe(100 + round);
    }
  } finally {
    agent.destroy();
  }
});

test('ordinary answers keep the connection alive (the next request reuses the socket)', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await request(agent, 'GET', '/v1/stats');
    const second = await request(agent, 'PUT', '/v1/senders/default', JSON.stringify({ dailyQuota: 7 }));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.connection).toBe('keep-alive');
    expect(second.socket).toBe(first.socket);
  } finally {
    agent.destroy();
  }
});
