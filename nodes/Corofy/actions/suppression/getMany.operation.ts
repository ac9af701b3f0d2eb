import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { errorItem, nodeError } from '../../../shared/items';
import { corofyApiRequest } from '../../../shared/transport';

export const description: INodeProperties[] = [];

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	const returnData: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const result = await corofyApiRequest.call(this, 'GET', '/v1/suppressions', undefined, undefined, i);
			for (const suppression of (result.suppressions as IDataObject[] | undefined) ?? []) {
				returnData.push({ json: suppression, pairedItem: { item: i } });
			}
		} catch (error) {
			if (!this.continueOnFail()) throw nodeError.call(this, error, i);
			returnData.push(errorItem(items[i]!, i, error as Error));
		}
	}
	return returnData;
}
