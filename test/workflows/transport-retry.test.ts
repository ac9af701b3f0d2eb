// The nodes' transport rides out a service that cannot serve for a moment (its
// database restarting): a request that is safe to send twice is sent again after
// a 503 that carries Retry-After or after a connection reset, for at most the
// node's "Retry Unavailable Service For"; anything else fails at once with the
// service's own sentence. The nodes run in n8n-core's engine against the real
// service; a forwarder in between injects the faults a restart causes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IWorkflowBase } from 'n8n-workflow';
import { importLeads, stopService } from '../../service/test/support/sends-fixture';
import { startTestService, TEST_API_KEY, type TestService } from '../../service/test/support/test-service';
import { Outbox, runWorkflow } from './support/workflow-runner';

type Fault = 'unavailable' | 'unavailable-no-retry-after' | 'reset-after-service';

let svc: TestService;
let forwarder: http.Server;
let forwarderUrl: string;
/** Faults still to inject, per "METHOD /path", in order. */
const faults = new Map<string, Fault[]>();
/** What the forwarder did with each request: its path and what the caller got. */
const log: { path: string; answered: number | 'reset' }[] = [];

const UNAVAILABLE = {
  type: 'https://corofy.dev/problems/database-unavailable',
  title: 'Service unavailable',
  status: 503,
  detail: 'The connection to the database failed during this request. Try again.',
  code: 'database_unavailable',
};

beforeAll(async () => {
  svc = await startTestService();
  await importLeads(svc, 6, 'transport');
  forwarder = http.createServer((req, res) => {
    const key = `${req.method} ${req.url?.split('?')[0]}`;
    const fault = faults.get(key)?.shift();
    if (fault === 'unavailable' || fault === 'unavailable-no-retry-after') {
      req.resume();
      log.push({ path: key, answered: 503 });
      res.writeHead(503, {
        'content-type': 'application/problem+json',
        ...(fault === 'unavailable' ? { 'retry-after': '1' } : {}),
      });
      res.end(JSON.stringify(UNAVAILABLE));
      return;
    }
    const upstream = http.request(`${svc.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      if (fault === 'reset-after-service') {
        // the service did the work; its answer is lost on the way back
        up.resume();
        log.push({ path: key, answered: 'reset' });
        res.socket?.destroy();
        return;
      }
      log.push({ path: key, answered: up.statusCode ?? 0 });
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
  forwarderUrl = `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => forwarder?.close(() => resolve()));
  await stopService(svc);
});

beforeEach(() => {
  faults.clear();
  log.length = 0;
});

function oneNode(type: string, parameters: Record<string, unknown>): IWorkflowBase {
  return {
    id: 'transportTest',
    name: 'transport test',
    active: false,
    isArchived: false,
    activeVersionId: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    settings: { executionOrder: 'v1' },
    connections: { Start: { main: [[{ node: 'Node', type: 'main', index: 0 }]] } },
    nodes: [
      { id: 'a', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
      { id: 'b', name: 'Node', type, typeVersion: 1, position: [200, 0], parameters },
    ],
  } as IWorkflowBase;
}

const runNode = async (type: string, parameters: Record<string, unknown>, executionId: string) => {
  const r = await runWorkflow(oneNode(type, parameters), {
    baseUrl: forwarderUrl,
    apiKey: TEST_API_KEY,
    outbox: new Outbox(),
    startNode: 'Start',
    executionId,
  });
  return { error: r.error('Node'), output: r.ran('Node') ? r.output('Node') : [] };
};

const claimNode = 'n8n-nodes-corofy.claimDailyBatch';

test('a claim whose answer was lost, then answered 503 with Retry-After, is sent again: one batch, quota used once', async () => {
  faults.set('POST /v1/batches/claim', ['reset-after-service', 'unavailable']);
  const { error, output } = await runNode(claimNode, { sender: 'default', batchSize: 2, idempotencyKey: '={{ $execution.id }}' }, 'exec-lost-claim');

  expect(error).toBeUndefined();
  expect(log.map((l) => l.answered)).toEqual(['reset', 503, 200]);
  expect(output).toHaveLength(2);
  expect((await svc.api('GET', '/v1/stats')).body.claimed).toBe(2);
}, 60_000);

test('a request that is not safe to repeat fails at once on a 503, with the service\'s own sentence', async () => {
  faults.set('DELETE /v1/suppressions/nobody.example', ['unavailable']);
  const { error } = await runNode('n8n-nodes-corofy.corofy', { resource: 'suppression', operation: 'remove', value: 'nobody.example' }, 'exec-remove');

  expect(log.map((l) => l.answered)).toEqual([503]);
  expect(error?.message).toBe('Service unavailable (database_unavailable)');
  expect((error as { description?: string }).description).toBe(UNAVAILABLE.detail);
});

test('a claim without an idempotency key is not repeated after a lost answer', async () => {
  faults.set('POST /v1/batches/claim', ['reset-after-service']);
  const { error } = await runNode(claimNode, { sender: 'default', batchSize: 1, idempotencyKey: '' }, 'exec-no-key');

  expect(log.map((l) => l.answered)).toEqual(['reset']);
  expect(error?.message).toMatch(/Could not reach the Corofy service/);
});

test('a 503 without Retry-After (not a passing condition) is not repeated', async () => {
  faults.set('GET /v1/stats', ['unavailable-no-retry-after']);
  const { error } = await runNode('n8n-nodes-corofy.corofy', { resource: 'stats', operation: 'get', sender: 'default' }, 'exec-stats');

  expect(log.map((l) => l.answered)).toEqual([503]);
  expect(error?.message).toBe('Service unavailable (database_unavailable)');
});

test('past the node\'s retry budget the node fails with the service\'s own sentence', async () => {
  // Retry-After 1 s, a budget of 3 s: a few tries (never sooner than a second apart), then the service's problem
  faults.set('GET /v1/stats', Array.from({ length: 20 }, () => 'unavailable' as const));
  const { error } = await runNode(
    'n8n-nodes-corofy.corofy',
    { resource: 'stats', operation: 'get', sender: 'default', retryUnavailableFor: 3 },
    'exec-budget',
  );

  expect(error?.message).toBe('Service unavailable (database_unavailable)');
  expect((error as { description?: string }).description).toBe(UNAVAILABLE.detail);
  expect(log.length).toBeGreaterThanOrEqual(2);
  expect(log.length).toBeLessThanOrEqual(4);
  expect(log.every((l) => l.answered === 503)).toBe(true);
}, 60_000);

test('with a budget of 0 the node never repeats', async () => {
  faults.set('GET /v1/stats', ['unavailable']);
  const { error } = await runNode(
    'n8n-nodes-corofy.corofy',
    { resource: 'stats', operation: 'get', sender: 'default', retryUnavailableFor: 0 },
    'exec-zero',
  );
  expect(log.map((l) => l.answered)).toEqual([503]);
  expect(error?.message).toBe('Service unavailable (database_unavailable)');
});
