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
		const result = await corofyApiRequest.call(this, 'POST', '/v1/sends/claim-due', body, undefined, i);
		return (result.sends as IDataObject[] | undefined) ?? [];
	});
}
