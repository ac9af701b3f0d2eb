import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import * as event from './actions/event/Event.resource';
import { router } from './actions/router';
import * as send from './actions/send/Send.resource';
import * as stats from './actions/stats/Stats.resource';
import * as suppression from './actions/suppression/Suppression.resource';
import { retryUnavailableForField } from '../shared/descriptions';

export class Corofy implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Corofy',
		name: 'corofy',
		icon: { light: 'file:corofy.svg', dark: 'file:corofy.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description: 'Report send results, drain the send queue, record replies and bounces, manage suppressions, read stats',
		defaults: { name: 'Corofy' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'corofyApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Event', value: 'event' },
					{ name: 'Send', value: 'send' },
					{ name: 'Stat', value: 'stats' },
					{ name: 'Suppression', value: 'suppression' },
				],
				default: 'send',
			},
			...send.description,
			...event.description,
			...suppression.description,
			...stats.description,
			retryUnavailableForField,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
