import type { INodeProperties } from 'n8n-workflow';
import * as inbound from './inbound.operation';
import * as record from './record.operation';

export { inbound, record };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['event'] } },
		options: [
			{
				name: 'Record Inbound Message',
				value: 'inbound',
				description:
					'Classify a received email (reply, auto-reply, bounce, complaint, unsubscribe) and record what it means',
				action: 'Record an inbound message',
			},
			{
				name: 'Record',
				value: 'record',
				description: 'Record a reply, bounce, complaint or unsubscribe; scheduled sends to the lead are cancelled',
				action: 'Record an event',
			},
		],
		default: 'record',
	},
	...record.description,
	...inbound.description,
];
