import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { errorItem, nodeError } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['suppression'], operation: ['remove'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Email or Domain',
		name: 'value',
		type: 'string',
		default: '',
		required: true,
		displayOptions: { show },
		description: 'The suppressed address or domain to allow again',
	},
];

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	const returnData: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const value = String(this.getNodeParameter('value', i)).trim();
			const result = await corofyApiRequest.call(
				this,
				'DELETE',
				`/v1/suppressions/${encodeURIComponent(value)}`,
				undefined,
				undefined,
				i,
			);
			returnData.push({ json: { value, removed: true, ...result }, pairedItem: { item: i } });
		} catch (error) {
			if (!this.continueOnFail()) throw nodeError.call(this, error, i);
			returnData.push(errorItem.call(this, i, error));
		}
	}
	return returnData;
}
