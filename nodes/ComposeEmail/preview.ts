import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { errorItem, leadIdOf, nodeError } from '../shared/items';
import { corofyApiRequest } from '../shared/transport';

// The Preview operation: the draft each lead would get now, with its source,
// product, language and tokens. The service stores nothing; the profile fields
// are tried for this preview only unless "Save Profile" is on.

const LANGUAGES = [
	{ name: "Recipient's Language (by Country)", value: 'recipient' },
	{ name: 'Danish', value: 'da' },
	{ name: 'Dutch', value: 'nl' },
	{ name: 'English', value: 'en' },
	{ name: 'French', value: 'fr' },
	{ name: 'German', value: 'de' },
	{ name: 'Italian', value: 'it' },
	{ name: 'Polish', value: 'pl' },
	{ name: 'Portuguese', value: 'pt' },
	{ name: 'Spanish', value: 'es' },
	{ name: 'Swedish', value: 'sv' },
];

export const profileFields: INodeProperties[] = [
	{
		displayName: 'Profile',
		name: 'profile',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: { operation: ['preview'] } },
		description: "The sender's company and voice to try (fields left out keep the sender's stored ones)",
		options: [
			{
				displayName: 'Avoid Phrases',
				name: 'avoidPhrases',
				type: 'string',
				default: '',
				description: 'Phrases the emails never use, one per line',
				typeOptions: { rows: 3 },
			},
			{ displayName: 'Company Name', name: 'companyName', type: 'string', default: '' },
			{
				displayName: 'Language',
				name: 'language',
				type: 'options',
				options: LANGUAGES,
				default: 'recipient',
			},
			{
				displayName: 'Signature',
				name: 'signature',
				type: 'string',
				default: '',
				typeOptions: { rows: 3 },
				description: "Closes every email (by default the language's sign-off and the sender's name)",
			},
			{
				displayName: 'Tone',
				name: 'tone',
				type: 'string',
				default: '',
				placeholder: 'e.g. plain and friendly',
			},
			{
				displayName: 'What the Company Sells',
				name: 'offer',
				type: 'string',
				default: '',
				typeOptions: { rows: 4 },
			},
			{
				displayName: 'Why Customers Buy',
				name: 'whyCustomersBuy',
				type: 'string',
				default: '',
				typeOptions: { rows: 2 },
			},
		],
	},
	{
		displayName: 'Save Profile',
		name: 'saveProfile',
		type: 'boolean',
		default: false,
		displayOptions: { show: { operation: ['preview'] } },
		description: "Whether to store the profile fields on the sender (for the daily run) instead of trying them for this preview only",
	},
];

function profileOf(this: IExecuteFunctions, i: number): IDataObject {
	const raw = this.getNodeParameter('profile', i, {}) as IDataObject;
	const profile: IDataObject = {};
	for (const [key, value] of Object.entries(raw)) {
		if (typeof value !== 'string' || value.trim() === '') continue;
		profile[key] =
			key === 'avoidPhrases'
				? value
						.split('\n')
						.map((p) => p.trim())
						.filter((p) => p !== '')
				: value.trim();
	}
	return profile;
}

export async function preview(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const returnData: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const leadId = leadIdOf.call(this, i);
			const sender = (this.getNodeParameter('sender', i, 'default') as string) || 'default';
			const profile = profileOf.call(this, i);
			const save = this.getNodeParameter('saveProfile', i, false) as boolean;
			if (save && Object.keys(profile).length > 0) {
				await corofyApiRequest.call(this, 'PUT', `/v1/senders/${encodeURIComponent(sender)}/profile`, profile, undefined, i);
			}
			const body: IDataObject = { sender, leadId, ...(!save && Object.keys(profile).length > 0 ? { profile } : {}) };
			const result = await corofyApiRequest.call(this, 'POST', '/v1/compose/preview', body, undefined, i);
			returnData.push({ json: { ...items[i]!.json, ...result }, pairedItem: { item: i } });
		} catch (error) {
			if (!this.continueOnFail()) throw nodeError.call(this, error, i);
			returnData.push(errorItem.call(this, i, error));
		}
	}
	return returnData;
}
