import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { senderField } from '../../../shared/descriptions';
import { forEachItem } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['stats'], operation: ['get'] };

export const description: INodeProperties[] = [
	{ ...senderField, displayOptions: { show } },
	{
		displayName: 'Day',
		name: 'day',
		type: 'string',
		default: '',
		placeholder: '2026-11-30',
		displayOptions: { show },
		description: "The sender-local day (YYYY-MM-DD); empty means the sender's today",
	},
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await forEachItem.call(this, async (i) => {
		const qs: IDataObject = { sender: this.getNodeParameter('sender', i, 'default') as string };
		const day = String(this.getNodeParameter('day', i, '') ?? '').trim();
		if (day) qs.day = day;
		return await corofyApiRequest.call(this, 'GET', '/v1/stats', undefined, qs, i);
	});
}
