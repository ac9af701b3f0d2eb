import type { INodeProperties } from 'n8n-workflow';
import * as erase from './erase.operation';

export { erase };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['lead'] } },
		options: [
			{
				name: 'Erase',
				value: 'erase',
				description: "Delete the person's data everywhere (GDPR erasure); only a hashed suppression stays",
				action: 'Erase a lead',
			},
		],
		default: 'erase',
	},
	...erase.description,
];
