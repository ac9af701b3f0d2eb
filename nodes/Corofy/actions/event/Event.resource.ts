import type { INodeProperties } from 'n8n-workflow';
import * as record from './record.operation';

export { record };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['event'] } },
		options: [
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
];
