// Compose Email's Preview operation in the real n8n engine: an operator tries
// a voice on a lead, sees the draft and its cost, and nothing is stored until
// they choose to save the profile.
import type { IWorkflowBase } from 'n8n-workflow';
import { startFakeOpenAI, type FakeOpenAI } from '../../sandbox/fake-openai';
import { startTestService, TEST_API_KEY, type TestService } from '../../service/test/support/test-service';
import { Outbox, runWorkflow } from './support/workflow-runner';

let openai: FakeOpenAI;
let svc: TestService;
let leadId: string;

beforeAll(async () => {
  openai = await startFakeOpenAI();
  svc = await startTestService({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseUrl, COROFY_PUBLIC_URL: 'https://corofy.test' });
  await svc.api('PUT', '/v1/senders/default', { fromName: 'Jana Peters', postalAddress: 'Kaiser-Wilhelm-Str. 5, Hamburg' });
  const imported = await svc.api('POST', '/v1/leads/import', {
    leads: [{ email: 'lea@schmier.test', firstName: 'Lea', companyName: 'Schmier GmbH', industry: 'Lubricants', country: 'DE' }],
  });
  leadId = imported.body.leadIds[0];
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await openai?.close();
});

function previewWorkflow(parameters: Record<string, unknown>): IWorkflowBase {
  return {
    id: 'preview',
    name: 'preview',
    active: false,
    isArchived: false,
    activeVersionId: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    settings: { executionOrder: 'v1' },
    connections: { Start: { main: [[{ node: 'Compose Email', type: 'main', index: 0 }]] } },
    nodes: [
      { id: 'a', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
      { id: 'b', name: 'Compose Email', type: 'n8n-nodes-corofy.composeEmail', typeVersion: 1, position: [200, 0], parameters },
    ],
  } as IWorkflowBase;
}

const preview = async (parameters: Record<string, unknown>) => {
  const r = await runWorkflow(previewWorkflow({ operation: 'preview', leadId, ...parameters }), {
    baseUrl: svc.url,
    apiKey: TEST_API_KEY,
    outbox: new Outbox(),
    startNode: 'Start',
  });
  const error = r.error('Compose Email');
  if (error) throw error;
  return r.output('Compose Email');
};

test('Preview tries profile fields on a lead and shows the draft with its tokens; nothing is stored', async () => {
  const [item] = await preview({
    profile: { companyName: 'Nordhafen Chemie', offer: 'Specialty additives from Hamburg.', tone: 'plain', language: 'recipient', avoidPhrases: 'synergy\n  \nrevolutionary' },
  });
  expect(item).toMatchObject({ leadId, source: 'catalog', product: 'Lubricant additives', language: 'de', model: 'gpt-4o-mini' });
  expect(String(item!.text)).toMatch(/^Hallo Lea,/);
  expect((item!.tokens as { total: number }).total).toBe(openai.state.requests.at(-1)!.promptTokens + openai.state.requests.at(-1)!.completionTokens);
  const system = openai.state.requests.at(-1)!.system;
  expect(system).toContain('Name: Nordhafen Chemie');
  expect(system).toContain('Never use: "synergy", "revolutionary"');

  expect((await svc.api('GET', '/v1/senders/default/profile')).body.profile.companyName).toBeNull();
  expect((await svc.api('GET', `/v1/leads/${leadId}`)).body.status).toBe('new');
  expect((await svc.api('GET', '/v1/stats')).body.compose.drafts).toBe(0);
});

test('Preview with Save Profile stores the fields on the sender for the daily run', async () => {
  const [item] = await preview({ profile: { companyName: 'Nordhafen Chemie', language: 'en' }, saveProfile: true });
  expect(item).toMatchObject({ language: 'en' });
  expect(String(item!.text)).toMatch(/^Hi Lea,/);
  expect((await svc.api('GET', '/v1/senders/default/profile')).body.profile).toMatchObject({ companyName: 'Nordhafen Chemie', language: 'en' });
  expect((await svc.api('GET', '/v1/stats')).body.compose.drafts).toBe(0);
});
