import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import * as event from './event/Event.resource';
import * as lead from './lead/Lead.resource';
import * as send from './send/Send.resource';
import * as stats from './stats/Stats.resource';
import * as suppression from './suppression/Suppression.resource';

type Operation = (this: IExecuteFunctions, items: INodeExecutionData[]) => Promise<INodeExecutionData[]>;

const operations: Record<string, Record<string, Operation>> = {
	send: {
		claimDue: send.claimDue.execute,
		getMany: send.getMany.execute,
		reportResult: send.reportResult.execute,
		retry: send.retry.execute,
	},
	event: { record: event.record.execute, inbound: event.inbound.execute },
	lead: { erase: lead.erase.execute },
	suppression: {
		add: suppression.add.execute,
		getMany: suppression.getMany.execute,
		remove: suppression.remove.execute,
	},
	stats: { get: stats.get.execute },
};

/** Dispatches to `actions/<resource>/<operation>.operation.ts`; each one handles its items. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const execute = operations[resource]?.[operation];
	if (!execute) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`);
	}
	return [await execute.call(this, items)];
}
