import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { forEachItem } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['lead'], operation: ['erase'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Lead ID',
		name: 'leadId',
		type: 'string',
		default: '',
		required: true,
		placeholder: '={{ $json.leadId }}',
		displayOptions: { show },
		description:
			"The lead whose person asked to be forgotten. Their data is removed everywhere; only a hash stays, so they are never emailed, imported or paid for again.",
	},
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await forEachItem.call(this, async (i) => {
		const leadId = String(this.getNodeParameter('leadId', i)).trim();
		if (!/^[1-9]\d{0,18}$/.test(leadId)) {
			throw new NodeOperationError(this.getNode(), `"${leadId}" is not a lead ID (a whole number such as 42)`, { itemIndex: i });
		}
		// erasing an erased lead changes nothing
		return await corofyApiRequest.call(this, 'DELETE', `/v1/leads/${leadId}`, undefined, { erase: 'true' }, i, {
			safeToRepeat: true,
		});
	});
}
