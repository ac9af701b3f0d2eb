// The Corofy Trigger in n8n-core's own contexts: activating the shipped
// reply-notification workflow registers its webhook with the real service
// (HookContext → checkExists/create), the service's signed delivery of a reply
// starts it (WebhookContext → webhook), a forged call is refused with 401, and
// deactivating removes the webhook (delete).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HookContext, WebhookContext } from 'n8n-core';
import type { IDataObject, INodeType, INodeTypes, IWebhookData, IWorkflowExecuteAdditionalData } from 'n8n-workflow';
import { Workflow } from 'n8n-workflow';
import { CorofyTrigger } from '../../nodes/CorofyTrigger/CorofyTrigger.node';
import { postRaw, sentLead } from '../../service/test/inbound/inbound-fixture';
import { stopService } from '../../service/test/support/sends-fixture';
import { startTestService, type TestService } from '../../service/test/support/test-service';
import { readWorkflow, TestCredentialsHelper } from './support/workflow-runner';

const trigger = new CorofyTrigger();
const nodeTypes: INodeTypes = {
  getByName: (name) => nodeTypes.getByNameAndVersion(name),
  getByNameAndVersion: (name) => {
    if (name === 'n8n-nodes-corofy.corofyTrigger') return trigger;
    // the other nodes of the workflow only need to exist here
    return { description: { name, displayName: name, group: [], version: [1, 2, 2.1], defaults: {}, inputs: [], outputs: [], properties: [], description: '' } } as unknown as INodeType;
  },
  getKnownTypes: () => ({}),
};

let svc: TestService;
let server: http.Server;
let workflow: Workflow;
let additionalData: IWorkflowExecuteAdditionalData;
const started: IDataObject[][] = [];
const answers: number[] = [];

beforeAll(async () => {
  svc = await startTestService({ COROFY_WEBHOOK_INTERVAL_MS: '50', COROFY_WEBHOOK_BACKOFF_SECONDS: '0' });
  const wf = readWorkflow('reply-notification.json');
  const node = () => workflow.getNode('Corofy Trigger')!;
  const webhookData = (): IWebhookData => ({ node: node().name, webhookDescription: trigger.description.webhooks![0]!, workflowId: workflow.id, httpMethod: 'POST', path: 'webhook', workflowExecuteAdditionalData: additionalData } as IWebhookData);

  // n8n's webhook server in miniature: the request and response objects a node sees
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks);
    const request = Object.assign(req, { rawBody, body: rawBody.length ? JSON.parse(rawBody.toString('utf8')) : {}, query: {}, params: {} });
    let status = 200;
    const response = Object.assign(res, {
      status(code: number) {
        status = code;
        return response;
      },
      json(body: unknown) {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        return response;
      },
    });
    const ctx = new WebhookContext(workflow, node(), { ...additionalData, httpRequest: request, httpResponse: response } as never, 'trigger', webhookData(), [], null);
    const result = await trigger.webhook!.call(ctx);
    if (result.noWebhookResponse) {
      answers.push(status);
      return;
    }
    answers.push(200);
    if (result.workflowData) started.push(result.workflowData[0]!.map((i) => i.json));
    res.writeHead(200).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  workflow = new Workflow({
    id: wf.id,
    name: wf.name,
    nodes: wf.nodes.map((n) => (n.type === 'n8n-nodes-corofy.corofyTrigger' ? { ...n, credentials: { corofyApi: { id: '1', name: 'Corofy API' } } } : n)),
    connections: wf.connections,
    nodeTypes,
    active: true,
    settings: wf.settings,
    staticData: {},
  });
  additionalData = {
    credentialsHelper: new TestCredentialsHelper({ corofyApi: { baseUrl: svc.url, apiKey: svc.apiKey } }),
    webhookBaseUrl: `${base}/webhook`,
    webhookTestBaseUrl: `${base}/webhook-test`,
    restApiUrl: `${base}/rest`,
    instanceBaseUrl: `${base}/`,
    variables: {},
  } as unknown as IWorkflowExecuteAdditionalData;
}, 180_000); // the embedded database starts slowly on a loaded machine
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await stopService(svc);
});

const hook = () => new HookContext(workflow, workflow.getNode('Corofy Trigger')!, additionalData, 'trigger', 'activate');
const methods = () => trigger.webhookMethods!.default!;

async function until<T>(fn: () => T | undefined | false, label: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out: ${label}`);
}

test('activation registers the workflow\'s webhook URL for the picked events, once', async () => {
  expect(await methods().checkExists.call(hook())).toBe(false);
  expect(await methods().create!.call(hook())).toBe(true);
  expect(await methods().checkExists.call(hook())).toBe(true);
  const listed = (await svc.api('GET', '/v1/webhooks')).body.webhooks;
  expect(listed).toHaveLength(1);
  expect(listed[0]).toMatchObject({ url: expect.stringMatching(/\/webhook\/[0-9a-f-]+\/webhook$/), events: ['reply'] });
});

test('a reply recorded by the service starts the workflow with the lead and the reply text', async () => {
  const lead = await sentLead(svc, 'trig@trigger-co.test', '<trig@mail.outreach.test>');
  await postRaw(svc, 'From: Tina <trig@trigger-co.test>\r\nTo: ops@outreach.test\r\nSubject: Re: Hello\r\nMessage-ID: <trig-r@trigger-co.test>\r\nIn-Reply-To: <trig@mail.outreach.test>\r\n\r\nLet us talk on Monday.\r\n');
  const [item] = await until(() => started[0], 'the workflow to start');
  expect(item).toMatchObject({ event: 'reply', leadId: lead, email: 'trig@trigger-co.test', text: 'Let us talk on Monday.', lead: { id: lead, status: 'replied' } });
  expect(answers).toEqual([200]);
});

test('a spoofed call with a bad signature is refused with 401 and starts nothing', async () => {
  const url = hook().getNodeWebhookUrl('default')!;
  const body = JSON.stringify({ type: 'reply', timestamp: new Date().toISOString(), data: { leadId: '1', email: 'ceo@victim.test' } });
  const ts = String(Math.floor(Date.now() / 1000));
  for (const signature of ['v1,' + Buffer.alloc(32).toString('base64'), '', 'v2,abc']) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': 'msg_forged', 'webhook-timestamp': ts, ...(signature ? { 'webhook-signature': signature } : {}) }, body });
    expect(res.status).toBe(401);
  }
  expect(started).toHaveLength(1);
});

test('deactivation removes the webhook from the service', async () => {
  expect(await methods().delete!.call(hook())).toBe(true);
  expect((await svc.api('GET', '/v1/webhooks')).body.webhooks).toEqual([]);
  expect(await methods().checkExists.call(hook())).toBe(false);
});
