import type { INodeProperties } from 'n8n-workflow';
import * as get from './get.operation';

export { get };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['stats'] } },
		options: [
			{
				name: 'Get',
				value: 'get',
				description: "A sender's day: quota, remaining, claimed, scheduled, sent, failed, replies, credits used, and per sequence step sent, replies, bounces and reply rate",
				action: 'Get a daily summary',
			},
		],
		default: 'get',
	},
	...get.description,
];
