import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { sendLimitField, senderField } from '../../../shared/descriptions';
import { forEachItem } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['send'], operation: ['claimDue'] };

export const description: INodeProperties[] = [
	{ ...senderField, displayOptions: { show } },
	{ ...sendLimitField, displayOptions: { show } },
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await forEachItem.call(this, async (i) => {
		const body: IDataObject = {
			sender: this.getNodeParameter('sender', i, 'default') as string,
			limit: this.getNodeParameter('limit', i, 50) as number,
		};
		// One key per item of this node in this execution: sent again, the call answers
		// with the sends it leased instead of leasing others (those would sit in
		// "sending" until a person reviews them).
		const executionId = this.getExecutionId();
		if (executionId) body.idempotencyKey = `${executionId}:${this.getNode().id}:${i}`;
		const result = await corofyApiRequest.call(this, 'POST', '/v1/sends/claim-due', body, undefined, i, {
			safeToRepeat: body.idempotencyKey !== undefined,
		});
		return (result.sends as IDataObject[] | undefined) ?? [];
	});
}
