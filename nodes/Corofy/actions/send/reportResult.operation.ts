import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { failItems, forEachItem } from '../../../shared/items';
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
		displayName: 'Retry',
		name: 'permanent',
		type: 'options',
		options: [
			{
				name: 'By the Mail Server’s Reply',
				value: 'fromReply',
				description:
					'Never retried when the error holds a permanent SMTP reply (5xx with a 5.x.x status, e.g. "550 5.1.1 user unknown"); otherwise retried later',
			},
			{
				name: 'Retry Later',
				value: 'retry',
				description: 'A passing failure (mailbox full, server busy): Corofy sends it again later',
			},
			{
				name: 'Never Retry',
				value: 'never',
				description: 'The address will never accept it: the send is dead-lettered and the lead marked bounced',
			},
		],
		default: 'fromReply',
		displayOptions: { show: { ...show, status: ['failed'] } },
		description: 'Whether Corofy sends this email again later or gives up on it',
	},
];

/**
 * RFC 3463: an enhanced status code of class 5 is a permanent failure, and it comes
 * after a 5xx reply code ("550 5.1.1", "550-5.1.1" on a multi-line reply). A 5xx
 * without one (or a 4xx) may pass, so it is retried.
 */
export function isPermanentSmtpFailure(error: string): boolean {
	return /\b5\d\d[ -]5\.\d{1,3}\.\d{1,3}\b/.test(error);
}

/** The Retry field's value, also as the true/false that workflows of 0.1.0 set there. */
function permanentOf(value: unknown, error: string): boolean {
	if (value === true || value === 'never') return true;
	if (value === false || value === 'retry') return false;
	return isPermanentSmtpFailure(error);
}

const MAX_PER_CALL = 100;

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const results: Array<{ index: number; result: IDataObject }> = [];
	const returnData = await forEachItem.call(this, async (i) => {
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
			result.permanent = permanentOf(this.getNodeParameter('permanent', i, 'fromReply'), result.error as string);
		}
		results.push({ index: i, result });
		return undefined;
	});

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
			failItems.call(this, group.map((g) => g.index), error, returnData);
		}
	}
	return returnData;
}
