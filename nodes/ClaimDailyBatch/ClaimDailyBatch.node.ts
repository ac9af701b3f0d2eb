import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { retryUnavailableForField, senderField } from '../shared/descriptions';
import { credentialTest } from '../shared/credential-test';
import { forEachItem, leadItem } from '../shared/items';
import { corofyApiRequest } from '../shared/transport';

export class ClaimDailyBatch implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Claim Daily Batch',
		name: 'claimDailyBatch',
		icon: { light: 'file:claimDailyBatch.svg', dark: 'file:claimDailyBatch.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["claimFor"] === "pool" ? "pool: " + $parameter["pool"] : "sender: " + $parameter["sender"] }}',
		description:
			"Claim today's leads for a sender or a pool of mailboxes: the follow-ups due today first, then new leads in sequence order, within the daily quota or target; nothing is claimed twice",
		defaults: { name: 'Claim Daily Batch' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'corofyApi', required: true, testedBy: 'corofyApiConnection' }],
		properties: [
			{
				displayName: 'Claim For',
				name: 'claimFor',
				type: 'options',
				options: [
					{ name: 'Sender', value: 'sender', description: "One mailbox, within its daily limit" },
					{
						name: 'Pool',
						value: 'pool',
						description:
							"A pool of mailboxes (PUT /v1/pools/&lt;pool&gt;): its daily target spread over its mailboxes by each one's room today",
					},
				],
				default: 'sender',
			},
			{ ...senderField, displayOptions: { show: { claimFor: ['sender'] } } },
			{
				displayName: 'Pool',
				name: 'pool',
				type: 'string',
				default: '',
				required: true,
				displayOptions: { show: { claimFor: ['pool'] } },
				description:
					'The pool whose mailboxes share the daily target. Each lead comes out with its mailbox in "sender" and its From in "from": set the Sender of Compose Email and Timezone Gate from the "sender" field of each item.',
			},
			{
				displayName: 'Batch Size',
				name: 'batchSize',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description:
					"How many leads to claim. 0 claims the rest of today's quota. Never more than the quota left today.",
			},
			{
				displayName: 'Idempotency Key',
				name: 'idempotencyKey',
				type: 'string',
				default: '={{ $execution.id }}',
				description:
					'The same key returns the same batch and uses no more quota. The default, the execution ID, makes a retried node hand out the leads it claimed before instead of new ones.',
			},
			retryUnavailableForField,
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const count = this.getInputData().length;
		// One batch per input item: the trigger's single item in the daily pipeline.
		const returnData = await forEachItem.call(this, async (i) => {
			const claimFor = this.getNodeParameter('claimFor', i, 'sender') as string;
			const body: IDataObject =
				claimFor === 'pool' ? {} : { sender: this.getNodeParameter('sender', i, 'default') as string };
			const size = this.getNodeParameter('batchSize', i, 0) as number;
			if (size > 0) body.size = size;
			const key = String(this.getNodeParameter('idempotencyKey', i, '') ?? '').trim();
			if (key !== '') body.idempotencyKey = count > 1 ? `${key}:${i}` : key;

			if (claimFor === 'pool') {
				const pool = String(this.getNodeParameter('pool', i, '')).trim();
				const claimed = await corofyApiRequest.call(
					this,
					'POST',
					`/v1/pools/${encodeURIComponent(pool)}/claim`,
					body,
					undefined,
					i,
					{ safeToRepeat: body.idempotencyKey !== undefined },
				);
				// each lead carries its own mailbox (sender), batch, day and From
				return ((claimed.leads as IDataObject[] | undefined) ?? []).map((lead) => leadItem(lead, { pool }));
			}
			// with a key, a claim sent twice returns the batch it made the first time
			const batch = await corofyApiRequest.call(this, 'POST', '/v1/batches/claim', body, undefined, i, {
				safeToRepeat: body.idempotencyKey !== undefined,
			});
			return ((batch.leads as IDataObject[] | undefined) ?? []).map((lead) =>
				leadItem(lead, { batchId: batch.batchId, sender: batch.sender, day: batch.day }),
			);
		});
		return [returnData];
	}
}
