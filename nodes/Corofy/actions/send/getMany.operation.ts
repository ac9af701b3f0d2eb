import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { sendLimitField } from '../../../shared/descriptions';
import { forEachItem } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['send'], operation: ['getMany'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Status',
		name: 'status',
		type: 'options',
		options: [
			{ name: 'Any', value: '' },
			{ name: 'Cancelled', value: 'cancelled' },
			{ name: 'Dead Letter', value: 'dead' },
			{ name: 'Failed', value: 'failed' },
			{ name: 'Needs Review', value: 'needs_review' },
			{ name: 'Scheduled', value: 'scheduled' },
			{ name: 'Sending', value: 'sending' },
			{ name: 'Sent', value: 'sent' },
		],
		default: 'dead',
		displayOptions: { show },
		description: 'Which sends to list: dead letters and needs-review sends wait for a human decision',
	},
	{ ...sendLimitField, displayOptions: { show } },
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await forEachItem.call(this, async (i) => {
		const qs: IDataObject = { limit: this.getNodeParameter('limit', i, 50) as number };
		const status = this.getNodeParameter('status', i, '') as string;
		if (status) qs.status = status;
		const result = await corofyApiRequest.call(this, 'GET', '/v1/sends', undefined, qs, i);
		return (result.sends as IDataObject[] | undefined) ?? [];
	});
}
