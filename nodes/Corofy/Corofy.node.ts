import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { credentialTest } from '../shared/credential-test';
import * as event from './actions/event/Event.resource';
import * as lead from './actions/lead/Lead.resource';
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
		// The action of each operation; a report also says which result it records (two
		// report nodes sit side by side in the workflows).
		subtitle:
			'={{ $parameter.operation === "reportResult" ? ($parameter.status === "failed" ? "Report failed send" : "Report sent email") : ({ "send:claimDue": "Claim due sends", "send:getMany": "Get many sends", "send:retry": "Retry a send", "event:record": "Record " + $parameter.kind, "lead:erase": "Erase a lead", "suppression:add": "Add a suppression", "suppression:getMany": "Get many suppressions", "suppression:remove": "Remove a suppression", "stats:get": "Daily summary of " + $parameter.sender })[$parameter.resource + ":" + $parameter.operation] ?? $parameter.operation }}',
		description:
			"Report send results, drain the send queue, record replies and bounces, manage suppressions, erase a lead, read a sender's daily summary",
		defaults: { name: 'Corofy' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'corofyApi', required: true, testedBy: 'corofyApiConnection' }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Daily Summary', value: 'stats' },
					{ name: 'Event', value: 'event' },
					{ name: 'Lead', value: 'lead' },
					{ name: 'Send', value: 'send' },
					{ name: 'Suppression', value: 'suppression' },
				],
				default: 'send',
			},
			...send.description,
			...event.description,
			...lead.description,
			...suppression.description,
			...stats.description,
			retryUnavailableForField,
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
