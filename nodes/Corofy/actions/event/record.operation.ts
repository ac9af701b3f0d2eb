import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { forEachItem } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['event'], operation: ['record'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Kind',
		name: 'kind',
		type: 'options',
		options: [
			{ name: 'Bounce', value: 'bounce', description: 'The address does not exist: suppress it' },
			{ name: 'Complaint', value: 'complaint', description: 'Marked as spam: suppress it' },
			{ name: 'Reply', value: 'reply', description: "The lead answered: stop the lead's sequence" },
			{ name: 'Unsubscribe', value: 'unsubscribe', description: 'The lead asked to stop: suppress it' },
		],
		default: 'reply',
		displayOptions: { show },
	},
	{
		displayName: 'Email',
		name: 'email',
		type: 'string',
		placeholder: 'name@email.com',
		default: '',
		displayOptions: { show },
		description: 'The address the event came from; used when no message ID matches',
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show },
		options: [
			{
				displayName: 'In-Reply-To',
				name: 'inReplyTo',
				type: 'string',
				default: '',
				description: 'The In-Reply-To header of the reply: matches the lead by the Message-ID we sent',
			},
			{
				displayName: 'Message ID',
				name: 'messageId',
				type: 'string',
				default: '',
				description: 'The Message-ID of the email we sent that this event is about (e.g. from a bounce report)',
			},
			{
				displayName: 'Received At',
				name: 'receivedAt',
				type: 'dateTime',
				default: '',
			},
			{
				displayName: 'Subject',
				name: 'subject',
				type: 'string',
				default: '',
			},
			{
				displayName: 'Text',
				name: 'text',
				type: 'string',
				typeOptions: { rows: 4 },
				default: '',
				description: 'The body of the reply, kept for the operator',
			},
		],
	},
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await forEachItem.call(this, async (i) => {
		const body: IDataObject = { kind: this.getNodeParameter('kind', i) as string };
		const email = String(this.getNodeParameter('email', i, '') ?? '').trim();
		if (email) body.email = email;
		const additional = this.getNodeParameter('additionalFields', i, {}) as IDataObject;
		for (const [key, value] of Object.entries(additional)) {
			if (value === undefined || value === null || String(value).trim() === '') continue;
			body[key] = key === 'receivedAt' ? new Date(String(value)).toISOString() : String(value);
		}
		// the service keeps one event per content (its dedupe key): the same event twice is recorded once
		const result = await corofyApiRequest.call(this, 'POST', '/v1/events', body, undefined, i, {
			safeToRepeat: true,
		});
		return { kind: body.kind, email: body.email, ...result };
	});
}
