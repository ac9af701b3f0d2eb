import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { errorItem, nodeError } from '../../../shared/items';
import { chunk, corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['send'], operation: ['reportResult'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Send ID',
		name: 'sendId',
		type: 'string',
		default: '={{ $json.sendId }}',
		required: true,
		displayOptions: { show },
		description:
			"The send this result belongs to. After n8n's Send Email node the item is the mail server's answer: take the send ID from the Timezone Gate (or Claim Due Sends) item it came from, as the shipped workflows do.",
	},
	{
		displayName: 'Attempt',
		name: 'attempt',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		displayOptions: { show },
		description:
			"The send's attempts when it was handed out (the Timezone Gate or Claim Due Sends item's attempts). With it, a late report about an earlier attempt can never settle a later one. 0 leaves it out.",
	},
	{
		displayName: 'Result',
		name: 'status',
		type: 'options',
		options: [
			{ name: 'Sent', value: 'sent', description: 'The mail server accepted the email' },
			{ name: 'Failed', value: 'failed', description: 'Sending failed; the service retries or dead-letters it' },
		],
		default: 'sent',
		displayOptions: { show },
	},
	{
		displayName: 'Message ID',
		name: 'messageId',
		type: 'string',
		default: '={{ $json.messageId }}',
		displayOptions: { show: { ...show, status: ['sent'] } },
		description: 'The Message-ID the mail server assigned; replies are matched by it',
	},
	{
		displayName: 'Error',
		name: 'error',
		type: 'string',
		default: '={{ $json.error }}',
		displayOptions: { show: { ...show, status: ['failed'] } },
		description: 'Why sending failed (the Send Email node puts it in "error" when it continues on fail)',
	},
	{
		displayName: 'Permanent',
		name: 'permanent',
		type: 'boolean',
		default: false,
		displayOptions: { show: { ...show, status: ['failed'] } },
		description:
			'Whether the failure will never go away (e.g. the mailbox does not exist): the send is dead-lettered instead of retried',
	},
];

const MAX_PER_CALL = 100;

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	const returnData: INodeExecutionData[] = [];
	const continueOnFail = this.continueOnFail();
	const results: Array<{ index: number; result: IDataObject }> = [];

	for (let i = 0; i < items.length; i++) {
		try {
			const sendId = String(this.getNodeParameter('sendId', i, '') ?? '').trim();
			if (sendId === '' || sendId === 'undefined') {
				throw new NodeOperationError(this.getNode(), 'No send ID for this item', {
					itemIndex: i,
					description:
						"Map Send ID to the sendId of the Timezone Gate or Claim Due Sends item, e.g. {{ $('Timezone Gate').item.json.sendId }}.",
				});
			}
			const status = this.getNodeParameter('status', i) as string;
			const result: IDataObject = { sendId, status };
			const attempt = Number(this.getNodeParameter('attempt', i, 0));
			if (Number.isInteger(attempt) && attempt > 0) result.attempt = attempt;
			if (status === 'sent') {
				const messageId = this.getNodeParameter('messageId', i, '') as string;
				if (messageId) result.messageId = String(messageId);
			} else {
				const error = this.getNodeParameter('error', i, '') as unknown;
				result.error = typeof error === 'string' ? error : JSON.stringify(error ?? 'unknown error');
				result.permanent = this.getNodeParameter('permanent', i, false) as boolean;
			}
			results.push({ index: i, result });
		} catch (error) {
			if (!continueOnFail) throw nodeError.call(this, error, i);
			returnData.push(errorItem.call(this, i, error));
		}
	}

	for (const group of chunk(results, MAX_PER_CALL)) {
		try {
			const summary = await corofyApiRequest.call(
				this,
				'POST',
				'/v1/sends/report',
				{ results: group.map((g) => g.result) },
				undefined,
				group[0]!.index,
				// a send already settled by this report (same send, same attempt) counts as a duplicate
				{ safeToRepeat: true },
			);
			for (const g of group) {
				returnData.push({ json: { ...g.result, report: summary }, pairedItem: { item: g.index } });
			}
		} catch (error) {
			if (!continueOnFail) throw nodeError.call(this, error, group[0]!.index);
			for (const g of group) returnData.push(errorItem.call(this, g.index, error));
		}
	}
	return returnData;
}
