import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { forEachItem } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['send'], operation: ['retry'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Send ID',
		name: 'sendId',
		type: 'string',
		default: '={{ $json.sendId }}',
		required: true,
		displayOptions: { show },
		description:
			'A dead-lettered or needs-review send to put back in the queue. Only do this when you know the email did not go out: a duplicate cold email is worse than a missed one.',
	},
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await forEachItem.call(this, async (i) => {
		const sendId = String(this.getNodeParameter('sendId', i)).trim();
		return await corofyApiRequest.call(
			this,
			'POST',
			`/v1/sends/${encodeURIComponent(sendId)}/retry`,
			{},
			undefined,
			i,
		);
	});
}
