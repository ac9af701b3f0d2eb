// Test support (not product): runs a shipped workflow JSON through n8n-core's
// execution engine (WorkflowExecute) with our node classes, the way n8n's own
// NodeTestHarness does, against a real Corofy service over HTTP.
//
// n8n-nodes-base is not loaded (it is the whole of n8n); the few base nodes the
// workflows use are stand-ins with the same type names: triggers pass their
// input on (as in a non-manual run), and "Send Email" records the email it was
// asked to send (the real SMTP node is exercised in the real-n8n e2e).
import fs from 'node:fs';
import path from 'node:path';
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
import type {
  ICredentialDataDecryptedObject,
  ICredentials,
  ICredentialType,
  IDataObject,
  IExecuteFunctions,
  IHttpRequestOptions,
  INode,
  INodeExecutionData,
  INodeProperties,
  INodeType,
  INodeTypes,
  IRun,
  IRunExecutionData,
  IVersionedNodeType,
  IWorkflowBase,
  IWorkflowExecuteAdditionalData,
  Workflow as WorkflowType,
} from 'n8n-workflow';
import { ICredentialsHelper, NodeConnectionTypes, NodeOperationError, Workflow } from 'n8n-workflow';
import { CorofyApi } from '../../../credentials/CorofyApi.credentials.ts';
import { ApolloSearch } from '../../../nodes/ApolloSearch/ApolloSearch.node.ts';
import { ClaimDailyBatch } from '../../../nodes/ClaimDailyBatch/ClaimDailyBatch.node.ts';
import { ComposeEmail } from '../../../nodes/ComposeEmail/ComposeEmail.node.ts';
import { Corofy } from '../../../nodes/Corofy/Corofy.node.ts';
import { TimezoneGate } from '../../../nodes/TimezoneGate/TimezoneGate.node.ts';

export const REPO_ROOT = path.resolve(__dirname, '../../..');

export interface SentEmail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  appendAttribution: unknown;
  messageId: string;
}

/** What the stand-in Send Email node did; `failFor` (address → SMTP reply) makes it fail like nodemailer. */
export class Outbox {
  sent: SentEmail[] = [];
  failFor = new Map<string, string>();
  /** Where an email really goes (the demo: a local SMTP catcher); its failure is the node's, as with SMTP. */
  deliver?: (mail: SentEmail) => Promise<void>;
  private seq = 0;
  nextMessageId(): string {
    this.seq += 1;
    return `<test-${this.seq}@corofy.test>`;
  }
}

function passThroughTrigger(name: string, displayName: string, version: number[]): INodeType {
  return {
    description: {
      displayName,
      name,
      group: ['trigger'],
      version,
      description: `${displayName} (test stand-in)`,
      defaults: { name: displayName },
      inputs: [],
      outputs: [NodeConnectionTypes.Main],
      properties: [],
    },
    // Non-manual executions pass the trigger's input data on unchanged.
    async trigger() {
      return {};
    },
  };
}

function webhookStandIn(): INodeType {
  return {
    description: {
      displayName: 'Webhook',
      name: 'webhook',
      group: ['trigger'],
      version: [1, 1.1, 2, 2.1],
      description: 'Webhook (test stand-in)',
      defaults: { name: 'Webhook' },
      inputs: [],
      outputs: [NodeConnectionTypes.Main],
      credentials: [{ name: 'httpHeaderAuth', required: false }],
      properties: [],
    },
    async webhook() {
      return {};
    },
  };
}

/** n8n's "No Operation, do nothing": passes its items on. */
function noOpStandIn(): INodeType {
  return {
    description: {
      displayName: 'No Operation, do nothing',
      name: 'noOp',
      group: ['organization'],
      version: [1],
      description: 'No operation (test stand-in)',
      defaults: { name: 'No Operation, do nothing' },
      inputs: [NodeConnectionTypes.Main],
      outputs: [NodeConnectionTypes.Main],
      properties: [],
    },
    async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
      return [this.getInputData()];
    },
  };
}

function stickyNoteStandIn(): INodeType {
  return {
    description: {
      displayName: 'Sticky Note',
      name: 'stickyNote',
      group: ['input'],
      version: [1],
      description: 'Sticky note',
      defaults: { name: 'Sticky Note' },
      inputs: [],
      outputs: [],
      properties: [],
    },
  };
}

/** Evaluates the real emailSend v2 parameters and answers like nodemailer's `info`. */
function emailSendStandIn(outbox: Outbox): INodeType {
  const str = (name: string): INodeProperties => ({ displayName: name, name, type: 'string', default: '' });
  return {
    description: {
      displayName: 'Send Email',
      name: 'emailSend',
      group: ['output'],
      version: [2, 2.1],
      description: 'Send Email (test stand-in)',
      defaults: { name: 'Send Email' },
      inputs: [NodeConnectionTypes.Main],
      outputs: [NodeConnectionTypes.Main],
      properties: [
        str('fromEmail'),
        str('toEmail'),
        str('subject'),
        { displayName: 'Email Format', name: 'emailFormat', type: 'string', default: 'html' },
        str('text'),
        str('html'),
        { displayName: 'Options', name: 'options', type: 'json', default: {} },
      ],
    },
    async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
      const items = this.getInputData();
      const out: INodeExecutionData[] = [];
      for (let i = 0; i < items.length; i++) {
        try {
          const to = String(this.getNodeParameter('toEmail', i));
          const reply = outbox.failFor.get(to);
          if (reply) {
            throw new NodeOperationError(this.getNode(), `Can't send mail - all recipients were rejected: ${reply}`, { itemIndex: i });
          }
          const options = this.getNodeParameter('options', i, {}) as IDataObject;
          const messageId = outbox.nextMessageId();
          const mail: SentEmail = {
            from: String(this.getNodeParameter('fromEmail', i)),
            to,
            subject: String(this.getNodeParameter('subject', i)),
            text: String(this.getNodeParameter('text', i, '')),
            html: String(this.getNodeParameter('html', i, '')),
            appendAttribution: options.appendAttribution,
            messageId,
          };
          await outbox.deliver?.(mail);
          outbox.sent.push(mail);
          out.push({ json: { accepted: [to], rejected: [], response: '250 OK', messageId }, pairedItem: { item: i } });
        } catch (error) {
          if (!this.continueOnFail()) throw error;
          out.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
        }
      }
      return [out];
    },
  };
}

/**
 * If v2 as n8n runs it: the `filter` parameter is evaluated by n8n-core's
 * getNodeParameter (extractValue), the same code the real node calls.
 */
function ifStandIn(): INodeType {
  return {
    description: {
      displayName: 'If',
      name: 'if',
      group: ['transform'],
      version: [2, 2.1, 2.2],
      description: 'If (test stand-in)',
      defaults: { name: 'If' },
      inputs: [NodeConnectionTypes.Main],
      outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
      properties: [
        { displayName: 'Conditions', name: 'conditions', type: 'filter', default: {} },
        { displayName: 'Options', name: 'options', type: 'collection', default: {}, options: [] },
      ],
    },
    async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
      const yes: INodeExecutionData[] = [];
      const no: INodeExecutionData[] = [];
      this.getInputData().forEach((item, i) => {
        const pass = this.getNodeParameter('conditions', i, false, { extractValue: true }) as boolean;
        (pass ? yes : no).push({ ...item, pairedItem: { item: i } });
      });
      return [yes, no];
    },
  };
}

class TestNodeTypes implements INodeTypes {
  private readonly types = new Map<string, INodeType>();
  constructor(outbox: Outbox) {
    const ours: INodeType[] = [new ApolloSearch(), new ClaimDailyBatch(), new ComposeEmail(), new TimezoneGate(), new Corofy()];
    for (const t of ours) this.types.set(`n8n-nodes-corofy.${t.description.name}`, t);
    this.types.set('n8n-nodes-base.manualTrigger', passThroughTrigger('manualTrigger', 'Manual Trigger', [1]));
    this.types.set('n8n-nodes-base.scheduleTrigger', passThroughTrigger('scheduleTrigger', 'Schedule Trigger', [1, 1.1, 1.2, 1.3]));
    this.types.set('n8n-nodes-base.webhook', webhookStandIn());
    this.types.set('n8n-nodes-base.stickyNote', stickyNoteStandIn());
    this.types.set('n8n-nodes-base.noOp', noOpStandIn());
    this.types.set('n8n-nodes-base.emailSend', emailSendStandIn(outbox));
    this.types.set('n8n-nodes-base.if', ifStandIn());
  }
  getByName(name: string): INodeType | IVersionedNodeType {
    return this.getByNameAndVersion(name);
  }
  getByNameAndVersion(name: string): INodeType {
    const t = this.types.get(name);
    if (!t) throw new Error(`Unknown node type ${name}`);
    return t;
  }
  getKnownTypes() {
    return {};
  }
}

/** Applies the credential's generic `authenticate` the way n8n's CredentialsHelper does. */
export class TestCredentialsHelper extends ICredentialsHelper {
  constructor(private readonly credentials: Record<string, ICredentialDataDecryptedObject>) {
    super();
  }
  private readonly types: Record<string, ICredentialType> = { corofyApi: new CorofyApi() };
  getParentTypes(): string[] {
    return [];
  }
  isCredentialUsableByNode(): boolean {
    return true;
  }
  async authenticate(
    credentials: ICredentialDataDecryptedObject,
    typeName: string,
    requestOptions: IHttpRequestOptions,
    workflow?: WorkflowType,
    node?: INode,
  ): Promise<IHttpRequestOptions> {
    const type = this.types[typeName];
    const auth = type?.authenticate;
    if (!auth || typeof auth === 'function' || auth.type !== 'generic') return requestOptions;
    const headers = { ...(requestOptions.headers ?? {}) } as IDataObject;
    for (const [key, value] of Object.entries(auth.properties.headers ?? {})) {
      headers[key] =
        typeof value === 'string' && value.startsWith('=') && workflow && node
          ? workflow.expression.getSimpleParameterValue(node, value, 'internal', { $credentials: credentials } as never, undefined, '')
          : value;
    }
    return { ...requestOptions, headers } as IHttpRequestOptions;
  }
  async preAuthentication() {
    return undefined;
  }
  async runPreAuthentication() {
    return undefined;
  }
  async getCredentials(): Promise<ICredentials> {
    throw new Error('not used');
  }
  async getDecrypted(_a: unknown, _n: unknown, type: string): Promise<ICredentialDataDecryptedObject> {
    const c = this.credentials[type];
    if (!c) throw new Error(`No test credential for ${type}`);
    return c;
  }
  async updateCredentials() {}
  async updateCredentialsOauthTokenData() {}
  getCredentialsProperties(type: string) {
    return this.types[type]?.properties ?? [];
  }
}

export function readWorkflow(file: string): IWorkflowBase {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'workflows', file), 'utf8')) as IWorkflowBase;
}

export interface WorkflowRun {
  run: IRun;
  /** Output items of a node's first run, per output (index 0 = main / first output). */
  output(nodeName: string, outputIndex?: number): IDataObject[];
  /** Whether the node ran at all. */
  ran(nodeName: string): boolean;
  error(nodeName: string): Error | undefined;
}

export interface RunOptions {
  baseUrl: string;
  apiKey: string;
  outbox: Outbox;
  /** The node the execution starts at, and the item it receives (e.g. a webhook request). */
  startNode: string;
  startItem?: IDataObject;
  executionId?: string;
  /** Told when each node starts and ends (with its output items per output), e.g. for a progress display. */
  onNode?: (phase: 'start' | 'end', nodeName: string, itemsPerOutput?: number[]) => void;
}

let executionSeq = 0;

/** Runs the workflow from `startNode` to the end, as n8n would for that trigger. */
export async function runWorkflow(workflowData: IWorkflowBase, opts: RunOptions): Promise<WorkflowRun> {
  const nodeTypes = new TestNodeTypes(opts.outbox);
  // As an operator does after importing: pick the Corofy API credential on our nodes.
  const nodes = workflowData.nodes.map((n) =>
    n.type.startsWith('n8n-nodes-corofy.') ? { ...n, credentials: { corofyApi: { id: '1', name: 'Corofy API' } } } : n,
  );
  const workflow = new Workflow({
    id: workflowData.id,
    name: workflowData.name,
    nodes,
    connections: workflowData.connections,
    nodeTypes,
    active: false,
    settings: workflowData.settings,
  });
  const start = workflow.getNode(opts.startNode);
  if (!start) throw new Error(`No node "${opts.startNode}" in ${workflowData.name}`);

  const executionId = opts.executionId ?? `test-${process.pid}-${++executionSeq}`;
  const hooks = new ExecutionLifecycleHooks('trigger', executionId, { ...workflowData, nodes });
  let finished!: (run: IRun) => void;
  const done = new Promise<IRun>((resolve) => (finished = resolve));
  hooks.addHandler('workflowExecuteAfter', (fullRunData) => finished(fullRunData));
  if (opts.onNode) {
    const onNode = opts.onNode;
    hooks.addHandler('nodeExecuteBefore', (nodeName) => onNode('start', nodeName));
    hooks.addHandler('nodeExecuteAfter', (nodeName, data) =>
      onNode('end', nodeName, (data.data?.main ?? []).map((items) => items?.length ?? 0)),
    );
  }

  const additionalData = {
    executionId,
    hooks,
    credentialsHelper: new TestCredentialsHelper({ corofyApi: { baseUrl: opts.baseUrl, apiKey: opts.apiKey } }),
    restApiUrl: 'http://localhost/rest',
    instanceBaseUrl: 'http://localhost/',
    webhookBaseUrl: 'http://localhost/webhook',
    webhookWaitingBaseUrl: 'http://localhost/webhook-waiting',
    webhookTestBaseUrl: 'http://localhost/webhook-test',
    formWaitingBaseUrl: 'http://localhost/form-waiting',
    variables: {},
    currentNodeParameters: undefined,
    executeWorkflow: async () => {
      throw new Error('not used');
    },
    getRunExecutionData: async () => undefined,
    logAiEvent: () => {},
    startRunnerTask: async () => {
      throw new Error('not used');
    },
  } as unknown as IWorkflowExecuteAdditionalData;

  const runExecutionData: IRunExecutionData = {
    resultData: { runData: {} },
    executionData: {
      contextData: {},
      metadata: {},
      waitingExecution: {},
      waitingExecutionSource: null,
      nodeExecutionStack: [{ node: start, data: { main: [[{ json: opts.startItem ?? {} }]] }, source: null }],
    },
  } as unknown as IRunExecutionData;

  await new WorkflowExecute(additionalData, 'trigger', runExecutionData).processRunExecutionData(workflow);
  const run = await done;
  const runData = run.data.resultData.runData;
  return {
    run,
    output: (nodeName, outputIndex = 0) =>
      (runData[nodeName]?.[0]?.data?.main?.[outputIndex] ?? []).map((i) => i.json as IDataObject),
    ran: (nodeName) => runData[nodeName] !== undefined,
    error: (nodeName) => runData[nodeName]?.[0]?.error as Error | undefined,
  };
}

