import type { INodeProperties } from 'n8n-workflow';
import * as add from './add.operation';
import * as getMany from './getMany.operation';
import * as remove from './remove.operation';

export { add, getMany, remove };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['suppression'] } },
		options: [
			{
				name: 'Add',
				value: 'add',
				description: 'Never email this address or domain again',
				action: 'Add a suppression',
			},
			{
				name: 'Get Many',
				value: 'getMany',
				description: 'List suppressed addresses and domains',
				action: 'Get many suppressions',
			},
			{
				name: 'Remove',
				value: 'remove',
				description: 'Allow an address or domain again',
				action: 'Remove a suppression',
			},
		],
		default: 'add',
	},
	...add.description,
	...getMany.description,
	...remove.description,
];
