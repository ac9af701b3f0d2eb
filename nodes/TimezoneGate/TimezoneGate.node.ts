import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { leadIdField, senderField } from '../shared/descriptions';
import { errorItem, leadIdOf, nodeError } from '../shared/items';
import { chunk, corofyApiRequest } from '../shared/transport';

const MAX_PER_CALL = 500;

export class TimezoneGate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Timezone Gate',
		name: 'timezoneGate',
		icon: { light: 'file:timezoneGate.svg', dark: 'file:timezoneGate.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ "sender: " + $parameter["sender"] }}',
		description:
			"Hold each composed email until the recipient's local business hours: send now, or schedule for the next open window",
		defaults: { name: 'Timezone Gate' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Send now', 'Scheduled'],
		credentials: [{ name: 'corofyApi', required: true }],
		properties: [
			{
				displayName:
					'"Send now" items are leased for sending and carry to, subject, text, html and sendId: send them, then report the result with the Corofy node. "Scheduled" items wait in the service until their window opens; the Queue drain workflow sends them.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			leadIdField,
			senderField,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const sendNow: INodeExecutionData[] = [];
		const scheduled: INodeExecutionData[] = [];
		const continueOnFail = this.continueOnFail();

		const bySender = new Map<string, Array<{ index: number; leadId: string }>>();
		for (let i = 0; i < items.length; i++) {
			try {
				const leadId = leadIdOf.call(this, i);
				const sender = (this.getNodeParameter('sender', i, 'default') as string) || 'default';
				if (!bySender.has(sender)) bySender.set(sender, []);
				bySender.get(sender)!.push({ index: i, leadId });
			} catch (error) {
				if (!continueOnFail) throw nodeError.call(this, error, i);
				sendNow.push(errorItem(items[i]!, i, error as Error));
			}
		}

		for (const [sender, pending] of bySender) {
			for (const group of chunk(pending, MAX_PER_CALL)) {
				const leadIds = [...new Set(group.map((p) => p.leadId))];
				let result: IDataObject;
				try {
					result = await corofyApiRequest.call(
						this,
						'POST',
						'/v1/gate',
						{ leadIds, sender },
						undefined,
						group[0]!.index,
					);
				} catch (error) {
					if (!continueOnFail) throw nodeError.call(this, error, group[0]!.index);
					for (const p of group) sendNow.push(errorItem(items[p.index]!, p.index, error as Error));
					continue;
				}

				const decided = new Map<string, { send: IDataObject; now: boolean }>();
				for (const send of (result.sendNow as IDataObject[] | undefined) ?? []) {
					decided.set(String(send.leadId), { send, now: true });
				}
				for (const send of (result.scheduled as IDataObject[] | undefined) ?? []) {
					decided.set(String(send.leadId), { send, now: false });
				}

				for (const p of group) {
					const item = items[p.index]!;
					const decision = decided.get(p.leadId);
					if (decision) {
						const out = { json: { ...item.json, ...decision.send }, pairedItem: { item: p.index } };
						(decision.now ? sendNow : scheduled).push(out);
						continue;
					}
					const error = new NodeOperationError(
						this.getNode(),
						`The gate neither sent nor scheduled lead ${p.leadId}`,
						{
							itemIndex: p.index,
							description:
								'The lead is probably not composed yet, or was suppressed meanwhile. Look it up with GET /v1/leads/' +
								p.leadId +
								'.',
						},
					);
					if (!continueOnFail) throw nodeError.call(this, error, p.index);
					sendNow.push(errorItem(item, p.index, error));
				}
			}
		}
		return [sendNow, scheduled];
	}
}
