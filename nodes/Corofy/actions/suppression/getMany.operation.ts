import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { forEachItem } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['suppression'], operation: ['getMany'] };
const PAGE = 1000;

export const description: INodeProperties[] = [
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		displayOptions: { show },
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		displayOptions: { show: { ...show, returnAll: [false] } },
		description: 'Max number of results to return',
	},
	{
		displayName: 'Kind',
		name: 'kind',
		type: 'options',
		options: [
			{ name: 'Any', value: '' },
			{ name: 'Email Address', value: 'email' },
			{ name: 'Domain', value: 'domain' },
		],
		default: '',
		displayOptions: { show },
	},
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await forEachItem.call(this, async (i) => {
		const returnAll = this.getNodeParameter('returnAll', i, false) as boolean;
		const limit = returnAll ? Infinity : (this.getNodeParameter('limit', i, 50) as number);
		const kind = this.getNodeParameter('kind', i, '') as string;
		const all: IDataObject[] = [];
		let after: string | undefined;
		while (all.length < limit) {
			const qs: IDataObject = { limit: Math.min(PAGE, limit - all.length) };
			if (kind) qs.kind = kind;
			if (after !== undefined) qs.after = after;
			const page = await corofyApiRequest.call(this, 'GET', '/v1/suppressions', undefined, qs, i);
			const suppressions = (page.suppressions as IDataObject[] | undefined) ?? [];
			all.push(...suppressions);
			if (suppressions.length < (qs.limit as number)) break;
			after = String(suppressions[suppressions.length - 1]!.value);
		}
		return all;
	});
}
