import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { forEachItem } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

const show = { resource: ['suppression'], operation: ['add'] };

export const description: INodeProperties[] = [
	{
		displayName: 'Suppress',
		name: 'target',
		type: 'options',
		options: [
			{ name: 'Email Address', value: 'email' },
			{ name: 'Domain', value: 'domain' },
		],
		default: 'email',
		displayOptions: { show },
	},
	{
		displayName: 'Email',
		name: 'email',
		type: 'string',
		placeholder: 'name@email.com',
		default: '',
		required: true,
		displayOptions: { show: { ...show, target: ['email'] } },
	},
	{
		displayName: 'Domain',
		name: 'domain',
		type: 'string',
		placeholder: 'example.com',
		default: '',
		required: true,
		displayOptions: { show: { ...show, target: ['domain'] } },
		description: 'Every address at this domain',
	},
	{
		displayName: 'Reason',
		name: 'reason',
		type: 'string',
		default: 'manual',
		displayOptions: { show },
		description: 'Why nothing may be sent there (kept for the record)',
	},
];

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	return await forEachItem.call(this, async (i) => {
		const target = this.getNodeParameter('target', i) as 'email' | 'domain';
		const body: IDataObject = {
			[target]: String(this.getNodeParameter(target, i)).trim(),
			reason: this.getNodeParameter('reason', i, 'manual') as string,
		};
		// suppressing a value that is suppressed already changes nothing
		return await corofyApiRequest.call(this, 'POST', '/v1/suppressions', body, undefined, i, {
			safeToRepeat: true,
		});
	});
}
