import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { credentialTest } from '../shared/credential-test';
import { forEachItem, leadItem } from '../shared/items';
import { corofyApiRequest, splitList } from '../shared/transport';
import { retryUnavailableForField } from '../shared/descriptions';

const SENIORITIES = [
	['Owner', 'owner'],
	['Founder', 'founder'],
	['C-Suite', 'c_suite'],
	['Partner', 'partner'],
	['VP', 'vp'],
	['Head', 'head'],
	['Director', 'director'],
	['Manager', 'manager'],
	['Senior', 'senior'],
	['Entry', 'entry'],
	['Intern', 'intern'],
] as const;

const EMPLOYEE_RANGES = [
	'1,10',
	'11,20',
	'21,50',
	'51,100',
	'101,200',
	'201,500',
	'501,1000',
	'1001,2000',
	'2001,5000',
	'5001,10000',
	'10001,',
];

export class ApolloSearch implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Apollo Search',
		name: 'apolloSearch',
		icon: { light: 'file:apolloSearch.svg', dark: 'file:apolloSearch.dark.svg' },
		group: ['input'],
		version: 1,
		// An expression in Leads Wanted (the daily pipeline's quota left) is not known on the canvas.
		subtitle:
			'={{ typeof $parameter.leadsWanted === "number" ? "Up to " + $parameter.leadsWanted + " new leads" : "New leads for the quota left" }}',
		description:
			'Find new leads in Apollo through Corofy: searching is free, and credits are spent only on the leads still needed',
		defaults: { name: 'Apollo Search' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'corofyApi', required: true, testedBy: 'corofyApiConnection' }],
		properties: [
			{
				displayName: 'Leads Wanted',
				name: 'leadsWanted',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 10000 },
				default: 100,
				required: true,
				description:
					'How many new leads to add. Leads already imported and suppressed addresses are skipped and do not use credits. 0 searches nothing (handy with an expression such as the quota left today).',
			},
			{
				displayName: 'Filters',
				name: 'filters',
				type: 'collection',
				placeholder: 'Add Filter',
				default: {},
				options: [
					{
						displayName: 'Company Domains',
						name: 'qOrganizationDomains',
						type: 'string',
						typeOptions: { multipleValues: true },
						default: [],
						placeholder: 'acme.com',
						description: 'Only people working at these company domains',
					},
					{
						displayName: 'Company Locations',
						name: 'organizationLocations',
						type: 'string',
						typeOptions: { multipleValues: true },
						default: [],
						placeholder: 'Germany',
						description: "Where the company's headquarters are",
					},
					{
						displayName: 'Employee Ranges',
						name: 'organizationNumEmployeesRanges',
						type: 'multiOptions',
						options: EMPLOYEE_RANGES.map((range) => ({
							name: range.endsWith(',') ? `${range.slice(0, -1)}+` : range.replace(',', '–'),
							value: range,
						})),
						default: [],
						description: 'Company sizes by number of employees',
					},
					{
						displayName: 'Keywords',
						name: 'qKeywords',
						type: 'string',
						default: '',
						placeholder: 'saas logistics',
						description: 'Free-text keywords Apollo matches against people and companies',
					},
					{
						displayName: 'Person Locations',
						name: 'personLocations',
						type: 'string',
						typeOptions: { multipleValues: true },
						default: [],
						placeholder: 'California, US',
						description: 'Where the people live (city, state or country)',
					},
					{
						displayName: 'Seniorities',
						name: 'personSeniorities',
						type: 'multiOptions',
						options: SENIORITIES.map(([name, value]) => ({ name, value })),
						default: [],
					},
					{
						displayName: 'Titles',
						name: 'personTitles',
						type: 'string',
						typeOptions: { multipleValues: true },
						default: [],
						placeholder: 'Head of Sales',
						description: 'Job titles to look for (Apollo also matches similar titles)',
					},
				],
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Output',
						name: 'output',
						type: 'options',
						options: [
							{
								name: 'One Item per New Lead',
								value: 'leads',
								description: 'Each lead the search added, as its own item',
							},
							{
								name: 'One Summary Item',
								value: 'summary',
								description:
									'One item with the counts (leads added, duplicates, credits used), so the workflow goes on even when nothing new was found',
							},
						],
						default: 'leads',
					},
				],
			},
			retryUnavailableForField,
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const returnData = await forEachItem.call(this, async (i) => {
			const leadsWanted = this.getNodeParameter('leadsWanted', i) as number;
			const filterParams = this.getNodeParameter('filters', i, {}) as IDataObject;
			const output = this.getNodeParameter('options.output', i, 'leads') as string;

			const filters: IDataObject = {};
			for (const key of [
				'personTitles',
				'personLocations',
				'organizationLocations',
				'qOrganizationDomains',
				'personSeniorities',
				'organizationNumEmployeesRanges',
			]) {
				const values = splitList(filterParams[key]);
				if (values.length > 0) filters[key] = values;
			}
			const keywords = String(filterParams.qKeywords ?? '').trim();
			if (keywords !== '') filters.qKeywords = keywords;

			if (leadsWanted <= 0) {
				return output === 'summary' ? { leadsWanted: 0, leadsAdded: 0, creditsUsed: 0, searched: false } : undefined;
			}
			// One key per item of this node in this execution: sent again, the search is the
			// same one (paid for once), answered from its record or continued where it stopped.
			const body: IDataObject = { leadsWanted, filters };
			const executionId = this.getExecutionId();
			if (executionId) body.idempotencyKey = `${executionId}:${this.getNode().id}:${i}`;
			const result = await corofyApiRequest.call(this, 'POST', '/v1/searches', body, undefined, i, {
				safeToRepeat: body.idempotencyKey !== undefined,
			});
			if (output === 'summary') {
				const summary: IDataObject = { ...result, searched: true };
				delete summary.leads;
				return summary;
			}
			return ((result.leads as IDataObject[] | undefined) ?? []).map((lead) => leadItem(lead));
		});
		return [returnData];
	}
}
