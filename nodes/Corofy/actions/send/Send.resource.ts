import type { INodeProperties } from 'n8n-workflow';
import * as claimDue from './claimDue.operation';
import * as getMany from './getMany.operation';
import * as reportResult from './reportResult.operation';
import * as retry from './retry.operation';

export { claimDue, getMany, reportResult, retry };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['send'] } },
		options: [
			{
				name: 'Claim Due Sends',
				value: 'claimDue',
				description: 'Lease the scheduled sends whose window is open now, to send them',
				action: 'Claim due sends',
			},
			{
				name: 'Get Many',
				value: 'getMany',
				description: 'List sends, e.g. dead letters or those needing review',
				action: 'Get many sends',
			},
			{
				name: 'Report Send Result',
				value: 'reportResult',
				description: 'Tell Corofy whether each email was sent or failed',
				action: 'Report send result',
			},
			{
				name: 'Retry',
				value: 'retry',
				description: 'Put a dead-lettered or needs-review send back in the queue',
				action: 'Retry a send',
			},
		],
		default: 'reportResult',
	},
	...reportResult.description,
	...claimDue.description,
	...getMany.description,
	...retry.description,
];
