import type {
	IDataObject,
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes } from 'n8n-workflow';
import { credentialTest } from '../shared/credential-test';
import { corofyApiRequest } from '../shared/transport';
import { verifySignature } from './signature';

interface WebhookState {
	webhookId?: string;
	secret?: string;
	url?: string;
	events?: string[];
}

/** The service forgot the webhook (deleted, or another database): not an error here. */
function notFoundAsUndefined(error: unknown): undefined {
	if (error instanceof NodeApiError && error.httpCode === '404') return undefined;
	throw error;
}

function sameEvents(a: string[] = [], b: string[] = []): boolean {
	return [...a].sort().join(',') === [...b].sort().join(',');
}

export class CorofyTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Corofy Trigger',
		name: 'corofyTrigger',
		icon: { light: 'file:corofyTrigger.svg', dark: 'file:corofyTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["events"].join(", ") }}',
		description: 'Starts the workflow when Corofy sees a reply, auto-reply, bounce, complaint, unsubscribe or a failed send',
		defaults: { name: 'Corofy Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'corofyApi', required: true, testedBy: 'corofyApiConnection' }],
		webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' }],
		properties: [
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				options: [
					{ name: 'Auto-Reply', value: 'auto_reply', description: 'An out-of-office or other automatic answer' },
					{ name: 'Bounce', value: 'bounce', description: 'A delivery failed (data.hard: the address does not exist)' },
					{ name: 'Complaint', value: 'complaint', description: 'The recipient marked an email as spam' },
					{
						name: 'Mailbox Paused',
						value: 'mailbox_paused',
						description:
							'A mailbox stopped sending (too many hard bounces or complaints, or its login refused) until a person resumes it',
					},
					{ name: 'Needs Review', value: 'needs_review', description: 'A send whose outcome is unknown waits for a person' },
					{ name: 'Reply', value: 'reply', description: 'A lead (or a colleague) answered' },
					{ name: 'Send Failed', value: 'send_failed', description: 'A send was given up on (dead letter)' },
					{ name: 'Unsubscribe', value: 'unsubscribe', description: 'A lead asked to stop' },
				],
				default: ['reply'],
				description: 'The events that start this workflow',
			},
		],
	};

	methods = { credentialTest };

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as WebhookState;
				if (!state.webhookId) return false;
				const url = this.getNodeWebhookUrl('default');
				const events = this.getNodeParameter('events') as string[];
				const hook = await corofyApiRequest
					.call(this, 'GET', `/v1/webhooks/${state.webhookId}`)
					.catch(notFoundAsUndefined);
				if (hook && hook.url === url && sameEvents(hook.events as string[], events)) return true;
				// registered for another URL or other events: replace it
				if (hook) await corofyApiRequest.call(this, 'DELETE', `/v1/webhooks/${state.webhookId}`);
				delete state.webhookId;
				delete state.secret;
				return false;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				const url = this.getNodeWebhookUrl('default');
				const events = this.getNodeParameter('events') as string[];
				const hook = await corofyApiRequest.call(this, 'POST', '/v1/webhooks', {
					url,
					events,
					description: `n8n workflow ${this.getWorkflow().id ?? ''}: ${this.getNode().name}`.slice(0, 500),
				} as IDataObject);
				const state = this.getWorkflowStaticData('node') as WebhookState;
				state.webhookId = hook.id as string;
				state.secret = hook.secret as string;
				state.url = url;
				state.events = events;
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as WebhookState;
				if (state.webhookId) {
					try {
						await corofyApiRequest.call(this, 'DELETE', `/v1/webhooks/${state.webhookId}`);
					} catch (error) {
						if (!(error instanceof NodeApiError && error.httpCode === '404')) return false;
					}
				}
				delete state.webhookId;
				delete state.secret;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const state = this.getWorkflowStaticData('node') as WebhookState;
		const req = this.getRequestObject() as ReturnType<IWebhookFunctions['getRequestObject']> & { rawBody?: Buffer };
		const headers = this.getHeaderData() as IDataObject;
		const body = req.rawBody ? req.rawBody.toString('utf8') : JSON.stringify(this.getBodyData());
		const check = state.secret
			? verifySignature(
					state.secret,
					{
						id: headers['webhook-id'] as string | undefined,
						timestamp: headers['webhook-timestamp'] as string | undefined,
						signature: headers['webhook-signature'] as string | undefined,
					},
					body,
					Math.floor(Date.now() / 1000),
				)
			: ({ valid: false, reason: 'this trigger has no signing secret: deactivate and activate the workflow' } as const);
		if (!check.valid) {
			const res = this.getResponseObject();
			res.status(401).json({ error: `Refused: ${check.reason}` });
			return { noWebhookResponse: true };
		}
		const payload = this.getBodyData() as IDataObject;
		const events = this.getNodeParameter('events') as string[];
		if (!events.includes(String(payload.type))) return { webhookResponse: 'ignored' };
		return {
			workflowData: [
				[{ json: { event: payload.type, timestamp: payload.timestamp, webhookId: headers['webhook-id'], ...(payload.data as IDataObject) } }],
			],
		};
	}
}
