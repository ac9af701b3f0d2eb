import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes } from 'n8n-workflow';
import { leadIdField, retryUnavailableForField, senderField } from '../shared/descriptions';
import { credentialTest } from '../shared/credential-test';
import { failItems, forEachItem, leadIdOf } from '../shared/items';
import { chunk, corofyApiRequest } from '../shared/transport';
import { preview, profileFields } from './preview';

const MAX_PER_CALL = 50;

export class ComposeEmail implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Compose Email',
		name: 'composeEmail',
		icon: { light: 'file:composeEmail.svg', dark: 'file:composeEmail.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: 'AI draft per lead',
		description:
			"Write each lead's cold email with AI, from the product catalog or the company's website, and add the draft to the lead",
		defaults: { name: 'Compose Email' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'corofyApi', required: true, testedBy: 'corofyApiConnection' }],
		properties: [
			{
				displayName:
					'The Corofy service writes each draft. What it pitches comes from the product catalog (PUT /v1/catalog: a product per industry; a lead no product fits is pitched from its company\'s website). The signature is the sender\'s From name and the footer its postal address (PUT /v1/senders/&lt;sender&gt;). Tone and length are the service\'s compose settings. Leads that cannot be composed leave by the error output with the reason.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Compose',
						value: 'compose',
						description: "Write and store each lead's draft",
						action: 'Compose the email of each lead',
					},
					{
						name: 'Preview',
						value: 'preview',
						description:
							"Show the draft a lead would get now, with its cost, without storing it: tune the sender's profile before the daily run",
						action: 'Preview the email of each lead',
					},
				],
				default: 'compose',
			},
			leadIdField,
			{
				...senderField,
				description:
					'Whose From name signs the email and whose postal address its footer carries (set both with PUT /v1/senders/<sender>)',
			},
			...profileFields,
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				displayOptions: { show: { operation: ['compose'] } },
				options: [
					{
						displayName: 'Leads per Request',
						name: 'batchSize',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: MAX_PER_CALL },
						default: 20,
						description: 'How many leads go to the service in one call (at most 50)',
					},
					{
						displayName: 'Regenerate',
						name: 'regenerate',
						type: 'boolean',
						default: false,
						description:
							'Whether to write a new draft even when the lead already has one (by default the stored draft is returned)',
					},
				],
			},
			{ ...retryUnavailableForField, displayOptions: { show: { operation: ['compose'] } } },
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		if (this.getNodeParameter('operation', 0, 'compose') === 'preview') return [await preview.call(this)];
		const items = this.getInputData();
		const bySender = new Map<string, Array<{ index: number; leadId: string }>>();
		const returnData = await forEachItem.call(this, async (i) => {
			const leadId = leadIdOf.call(this, i);
			const sender = (this.getNodeParameter('sender', i, 'default') as string) || 'default';
			if (!bySender.has(sender)) bySender.set(sender, []);
			bySender.get(sender)!.push({ index: i, leadId });
			return undefined;
		});
		if (bySender.size === 0) return [returnData];

		const batchSize = Math.min(
			MAX_PER_CALL,
			Math.max(1, this.getNodeParameter('options.batchSize', 0, 20) as number),
		);
		const regenerate = this.getNodeParameter('options.regenerate', 0, false) as boolean;

		const groups = [...bySender].flatMap(([sender, pending]) =>
			chunk(pending, batchSize).map((group) => ({ sender, group })),
		);
		for (const { sender, group } of groups) {
			let result: IDataObject;
			try {
				result = await corofyApiRequest.call(
					this,
					'POST',
					'/v1/compose',
					{ leadIds: [...new Set(group.map((p) => p.leadId))], regenerate, sender },
					undefined,
					group[0]!.index,
					// composed again, a lead gets its stored draft back (unless regenerating)
					{ safeToRepeat: !regenerate },
				);
			} catch (error) {
				failItems.call(this, group.map((p) => p.index), error, returnData);
				continue;
			}
			const emails = new Map<string, IDataObject>();
			for (const email of (result.emails as IDataObject[] | undefined) ?? []) {
				emails.set(String(email.leadId), email);
			}
			const failures = new Map<string, IDataObject>();
			for (const failure of (result.failed as IDataObject[] | undefined) ?? []) {
				failures.set(String(failure.leadId), failure);
			}

			for (const p of group) {
				const email = emails.get(p.leadId);
				if (email) {
					returnData.push({ json: { ...items[p.index]!.json, ...email }, pairedItem: { item: p.index } });
					continue;
				}
				const failure = failures.get(p.leadId) ?? {
					code: 'not_composed',
					detail: 'The service returned no draft for this lead.',
				};
				const error = new NodeApiError(this.getNode(), failure as never, {
					message: `Lead ${p.leadId} could not be composed (${String(failure.code)})`,
					description: String(failure.detail ?? ''),
					itemIndex: p.index,
				});
				failItems.call(this, [p.index], error, returnData);
			}
		}
		return [returnData];
	}
}
