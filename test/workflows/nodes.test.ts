// The node operations the shipped workflows do not use, run through the same
// engine: Apollo Search one item per lead, suppressions, sends, stats.
import type { IWorkflowBase } from 'n8n-workflow';
import { startFakeApollo, type FakeApollo } from '../../sandbox/fake-apollo';
import { startTestService, TEST_API_KEY, type TestService } from '../../service/test/support/test-service';
import { Outbox, runWorkflow } from './support/workflow-runner';

let apollo: FakeApollo;
let svc: TestService;
const outbox = new Outbox();

beforeAll(async () => {
  apollo = await startFakeApollo({ seed: 9, people: 300 });
  svc = await startTestService({ APOLLO_API_KEY: apollo.state.apiKey, APOLLO_BASE_URL: apollo.url });
}, 240_000); // a new database migrates slowly on a busy machine

afterAll(async () => {
  await svc?.stop();
  await apollo?.close();
});

/** Manual Trigger → one node with these parameters. */
function oneNode(type: string, parameters: Record<string, unknown>): IWorkflowBase {
  return {
    id: 'nodeTest',
    name: 'node test',
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

const runNode = async (type: string, parameters: Record<string, unknown>, executionId?: string) => {
  const r = await runWorkflow(oneNode(type, parameters), { baseUrl: svc.url, apiKey: TEST_API_KEY, outbox, startNode: 'Start', executionId });
  const error = r.error('Node');
  if (error) throw error;
  return r.output('Node');
};

test('Apollo Search outputs one item per new lead, filters passed as Apollo expects', async () => {
  const leads = await runNode('n8n-nodes-corofy.apolloSearch', {
    leadsWanted: 5,
    filters: { personTitles: ['Plant Manager'], personSeniorities: ['manager'], qKeywords: ' ' },
  });
  expect(leads).toHaveLength(5);
  for (const lead of leads) {
    expect(lead).toEqual(expect.objectContaining({ leadId: expect.stringMatching(/^\d+$/), email: expect.any(String), status: 'new' }));
    expect(String(lead.title)).toMatch(/Plant Manager/);
  }
  const search = apollo.state.requests.find((r) => r.endpoint === 'search')!;
  expect(search.body).toEqual(expect.objectContaining({ person_titles: ['Plant Manager'], person_seniorities: ['manager'] }));
  expect(search.body).not.toHaveProperty('q_keywords');
});

test('Claim Daily Batch: the same execution (a retried node) gets the same batch; another execution a new one', async () => {
  const claim = { sender: 'default', batchSize: 2, idempotencyKey: '={{ $execution.id }}' };
  const first = await runNode('n8n-nodes-corofy.claimDailyBatch', claim, 'exec-claim-1');
  const retried = await runNode('n8n-nodes-corofy.claimDailyBatch', claim, 'exec-claim-1');
  const next = await runNode('n8n-nodes-corofy.claimDailyBatch', claim, 'exec-claim-2');
  expect(first.map((l) => l.leadId)).toHaveLength(2);
  expect(retried.map((l) => l.leadId)).toEqual(first.map((l) => l.leadId));
  expect(retried[0]!.batchId).toBe(first[0]!.batchId);
  expect(next).toHaveLength(2);
  expect(next.map((l) => l.leadId).some((id) => first.some((f) => f.leadId === id))).toBe(false);
  expect(Number(next[0]!.leadId)).toBeGreaterThan(Number(first[1]!.leadId));
  expect((await svc.api('GET', '/v1/stats')).body.claimed).toBe(4);
});

test('suppressions: add an address and a domain, list them, remove one', async () => {
  const node = 'n8n-nodes-corofy.corofy';
  await runNode(node, { resource: 'suppression', operation: 'add', target: 'email', email: 'no@thanks.example', reason: 'asked' });
  await runNode(node, { resource: 'suppression', operation: 'add', target: 'domain', domain: 'competitor.example', reason: 'competitor' });
  const all = await runNode(node, { resource: 'suppression', operation: 'getMany', returnAll: true });
  expect(all.map((s) => s.value)).toEqual(expect.arrayContaining(['no@thanks.example', 'competitor.example']));
  const one = await runNode(node, { resource: 'suppression', operation: 'getMany', returnAll: false, limit: 1, kind: 'domain' });
  expect(one).toEqual([expect.objectContaining({ value: 'competitor.example', kind: 'domain' })]);
  const removed = await runNode(node, { resource: 'suppression', operation: 'remove', value: 'no@thanks.example' });
  expect(removed).toEqual([expect.objectContaining({ value: 'no@thanks.example', removed: true })]);
  const left = await runNode(node, { resource: 'suppression', operation: 'getMany', returnAll: true });
  expect(left.map((s) => s.value)).not.toContain('no@thanks.example');
});

test("lead erase: the person's data goes everywhere, a hash stays; the same address is refused at import", async () => {
  const node = 'n8n-nodes-corofy.corofy';
  const imported = await svc.api('POST', '/v1/leads/import', { leads: [{ email: 'forget.me@erasure.example', firstName: 'Frida' }] });
  const [leadId] = imported.body.leadIds;
  const [erased] = await runNode(node, { resource: 'lead', operation: 'erase', leadId });
  expect(erased).toEqual(expect.objectContaining({ leadId, status: 'erased', alreadyErased: false }));
  // the node retried (same item again) is harmless
  expect(await runNode(node, { resource: 'lead', operation: 'erase', leadId })).toEqual([
    expect.objectContaining({ leadId, status: 'erased', alreadyErased: true }),
  ]);
  const lead = await svc.api('GET', `/v1/leads/${leadId}`);
  expect(lead.body).toEqual(expect.objectContaining({ id: leadId, status: 'erased' }));
  expect(lead.body.email).toBeNull();
  expect(lead.body.firstName).toBeNull();
  const again = await svc.api('POST', '/v1/leads/import', { leads: [{ email: 'Forget.Me@erasure.example' }] });
  expect(again.body).toEqual(expect.objectContaining({ imported: 0, erased: [0] }));
  await expect(runNode(node, { resource: 'lead', operation: 'erase', leadId: 'frida' })).rejects.toMatchObject({
    name: 'NodeOperationError',
    message: '"frida" is not a lead ID (a whole number such as 42)',
  });
});

test('stats and the send list answer for the default sender', async () => {
  const node = 'n8n-nodes-corofy.corofy';
  const [stats] = await runNode(node, { resource: 'stats', operation: 'get', sender: 'default' });
  expect(stats).toEqual(expect.objectContaining({ sender: 'default', quota: 400, apolloCreditsUsed: 5 }));
  expect(await runNode(node, { resource: 'send', operation: 'getMany', status: 'dead', limit: 10 })).toEqual([]);
});

test('a bad parameter is a NodeApiError with the service’s validation message', async () => {
  await expect(
    runNode('n8n-nodes-corofy.corofy', { resource: 'stats', operation: 'get', sender: 'default', day: '2026-13-45' }),
  ).rejects.toMatchObject({
    name: 'NodeApiError',
    message: 'Bad request (validation_failed)',
    description: 'The request is invalid: day: must be a real date.',
    httpCode: '400',
  });
});
