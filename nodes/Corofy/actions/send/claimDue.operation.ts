import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { sendLimitField, senderField } from '../../../shared/descriptions';
import { errorItem, nodeError } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['send'], operation: ['claimDue'] };

export const description: INodeProperties[] = [
	{ ...senderField, displayOptions: { show } },
	{ ...sendLimitField, displayOptions: { show } },
];

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	const returnData: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
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
			for (const send of (result.sends as IDataObject[] | undefined) ?? []) {
				returnData.push({ json: send, pairedItem: { item: i } });
			}
		} catch (error) {
			if (!this.continueOnFail()) throw nodeError.call(this, error, i);
			returnData.push(errorItem.call(this, i, error));
		}
	}
	return returnData;
}
