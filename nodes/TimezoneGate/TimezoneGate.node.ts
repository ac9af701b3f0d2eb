import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { leadIdField, retryUnavailableForField, senderField } from '../shared/descriptions';
import { credentialTest } from '../shared/credential-test';
import { failItems, forEachItem, leadIdOf } from '../shared/items';
import { chunk, corofyApiRequest } from '../shared/transport';

const MAX_PER_CALL = 500;

export class TimezoneGate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Timezone Gate',
		name: 'timezoneGate',
		icon: { light: 'file:timezoneGate.svg', dark: 'file:timezoneGate.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ "sender: " + $parameter.sender }}',
		description:
			"Hold each composed email until the recipient's local business hours: send now, or schedule for the next open window",
		defaults: { name: 'Timezone Gate' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Send now', 'Scheduled'],
		credentials: [{ name: 'corofyApi', required: true, testedBy: 'corofyApiConnection' }],
		properties: [
			{
				displayName:
					'"Send now" items are leased for sending and carry to, subject, text, html and sendId: send them, then report the result with the Corofy node. "Scheduled" items wait in the service until their window opens (the Queue drain workflow sends them); leads gated before or skipped (suppressed, no email, no quota room) also come out there, marked by "gate".',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			leadIdField,
			senderField,
			retryUnavailableForField,
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const sendNow: INodeExecutionData[] = [];
		const bySender = new Map<string, Array<{ index: number; leadId: string }>>();
		// Everything not to be sent now: scheduled, gated before, skipped, and (on continue) errors.
		// Nothing here may reach an email node, so errors never go to the first output.
		const notNow = await forEachItem.call(this, async (i) => {
			const leadId = leadIdOf.call(this, i);
			const sender = (this.getNodeParameter('sender', i, 'default') as string) || 'default';
			if (!bySender.has(sender)) bySender.set(sender, []);
			bySender.get(sender)!.push({ index: i, leadId });
			return undefined;
		});

		// Once a call has leased send-now emails, a later call's failure must not throw:
		// the leased ones would then never reach the email node, and sit in "sending"
		// until their lease runs out and a human reviews them.
		let leased = false;
		// One key per call of this node in this execution: a call sent again (its answer
		// was lost) gets the emails it leased back as "send now"; any other call gets
		// them as already gated, so one lead in two calls is never sent twice.
		const executionId = this.getExecutionId();
		let call = 0;
		for (const [sender, pending] of bySender) {
			for (const group of chunk(pending, MAX_PER_CALL)) {
				const body: IDataObject = { leadIds: [...new Set(group.map((p) => p.leadId))], sender };
				if (executionId) body.idempotencyKey = `${executionId}:${this.getNode().id}:${call}`;
				call++;
				let result: IDataObject;
				try {
					result = await corofyApiRequest.call(this, 'POST', '/v1/gate', body, undefined, group[0]!.index, {
						safeToRepeat: body.idempotencyKey !== undefined,
					});
				} catch (error) {
					failItems.call(this, group.map((p) => p.index), error, notNow, leased);
					continue;
				}
				leased = true;

				const decided = new Map<string, { json: IDataObject; now: boolean }>();
				const record = (list: unknown, gate: string, now: boolean) => {
					for (const entry of (list as IDataObject[] | undefined) ?? []) {
						// delivery "corofy": the service's dispatcher sends it; nobody downstream may
						decided.set(String(entry.leadId), { json: { ...entry, gate, delivery: result.delivery ?? 'n8n' }, now });
					}
				};
				record(result.sendNow, 'sendNow', true);
				record(result.scheduled, 'scheduled', false);
				record(result.alreadyGated, 'alreadyGated', false);
				for (const skip of (result.skipped as IDataObject[] | undefined) ?? []) {
					decided.set(String(skip.leadId), {
						json: { leadId: skip.leadId, gate: 'skipped', skipCode: skip.code, skipDetail: skip.detail },
						now: false,
					});
				}

				for (const p of group) {
					const decision = decided.get(p.leadId) ?? {
						json: {
							leadId: p.leadId,
							gate: 'skipped',
							skipCode: 'not_gated',
							skipDetail: 'The service neither sent nor scheduled this lead.',
						},
						now: false,
					};
					const out = { json: { ...items[p.index]!.json, ...decision.json }, pairedItem: { item: p.index } };
					(decision.now ? sendNow : notNow).push(out);
				}
			}
		}
		return [sendNow, notNow];
	}
}
