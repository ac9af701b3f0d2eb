import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { errorItem, nodeError } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['event'], operation: ['inbound'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Message Source',
		name: 'source',
		type: 'options',
		options: [
			{
				name: 'Email Trigger Item (Resolved)',
				value: 'resolved',
				description: 'The item of n8n\'s Email Trigger (IMAP) with Format "Resolved": its headers and text',
			},
			{
				name: 'Raw Message Field',
				value: 'field',
				description: 'A field holding the whole RFC 822 message, as text or base64',
			},
			{
				name: 'Binary Property',
				value: 'binary',
				description: 'A binary property holding the .eml file',
			},
		],
		default: 'resolved',
		displayOptions: { show },
	},
	{
		displayName: 'Field Name',
		name: 'rawField',
		type: 'string',
		default: 'raw',
		displayOptions: { show: { ...show, source: ['field'] } },
		description: 'The name of the field with the raw message',
	},
	{
		displayName: 'Binary Property',
		name: 'binaryProperty',
		type: 'string',
		default: 'data',
		displayOptions: { show: { ...show, source: ['binary'] } },
	},
	{
		displayName: 'Sender',
		name: 'sender',
		type: 'string',
		default: '',
		displayOptions: { show },
		description: 'The Corofy sender whose mailbox received the message (optional)',
	},
];

/** Content headers of the original describe parts the resolved item no longer has. */
const DROPPED_HEADERS = /^(content-type|content-transfer-encoding|mime-version|content-disposition)$/i;

/**
 * The resolved Email Trigger item keeps every header line and the decoded text:
 * rebuilt as one text/plain message, the classifier reads the same headers and
 * words (a delivery report's fields are part of that text).
 */
function messageFromResolvedItem(json: IDataObject): string | undefined {
	const headers = json.headers;
	if (!headers || typeof headers !== 'object') return undefined;
	const lines = Object.entries(headers as IDataObject)
		.filter(([name]) => !DROPPED_HEADERS.test(name))
		.map(([, line]) => String(line).replace(/\r?\n(?![ \t])/g, '\r\n '));
	const text = typeof json.text === 'string' ? json.text : typeof json.textPlain === 'string' ? json.textPlain : '';
	return [...lines, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', text].join('\r\n');
}

function decodeRawField(value: unknown): string | undefined {
	if (typeof value !== 'string' || value.trim() === '') return undefined;
	if (/^[A-Za-z0-9+/_=\r\n-]+$/.test(value.trim()) && !/^[!-9;-~]+:/.test(value)) {
		return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
	}
	return value;
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	const returnData: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const source = this.getNodeParameter('source', i) as string;
			let raw: string | undefined;
			if (source === 'resolved') {
				raw = messageFromResolvedItem(items[i]!.json);
			} else if (source === 'field') {
				raw = decodeRawField(items[i]!.json[this.getNodeParameter('rawField', i) as string]);
			} else {
				const property = this.getNodeParameter('binaryProperty', i) as string;
				this.helpers.assertBinaryData(i, property);
				raw = (await this.helpers.getBinaryDataBuffer(i, property)).toString('utf8');
			}
			if (!raw) {
				throw new NodeOperationError(this.getNode(), 'The item holds no email message', {
					itemIndex: i,
					description:
						source === 'resolved'
							? 'Connect an Email Trigger (IMAP) with Format "Resolved", or choose another Message Source.'
							: 'Point the node at the field or binary property that holds the raw message.',
				});
			}
			const sender = String(this.getNodeParameter('sender', i, '') ?? '').trim();
			const result = await corofyApiRequest.call(
				this,
				'POST',
				'/v1/inbound',
				raw,
				sender ? { sender } : undefined,
				i,
				// recorded once by its Message-ID (or the hash of a message without one)
				{ contentType: 'message/rfc822', safeToRepeat: true },
			);
			returnData.push({ json: result, pairedItem: { item: i } });
		} catch (error) {
			if (!this.continueOnFail()) throw nodeError.call(this, error, i);
			returnData.push(errorItem.call(this, i, error));
		}
	}
	return returnData;
}
