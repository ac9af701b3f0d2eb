import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { forEachItem } from '../../../shared/items';
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

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await forEachItem.call(this, async (i) => {
		const value = String(this.getNodeParameter('value', i)).trim();
		const result = await corofyApiRequest.call(
			this,
			'DELETE',
			`/v1/suppressions/${encodeURIComponent(value)}`,
			undefined,
			undefined,
			i,
		);
		return { value, removed: true, ...result };
	});
}
