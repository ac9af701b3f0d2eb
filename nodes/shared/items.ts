import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

/** Reads the lead ID parameter of one item; a lead ID is a positive integer in text. */
export function leadIdOf(this: IExecuteFunctions, itemIndex: number): string {
	const raw = this.getNodeParameter('leadId', itemIndex, '') as string | number;
	const leadId = String(raw).trim();
	if (!/^[1-9][0-9]{0,18}$/.test(leadId)) {
		throw new NodeOperationError(this.getNode(), `"${leadId}" is not a Corofy lead ID`, {
			itemIndex,
			description:
				'Lead IDs are whole numbers, as output by Claim Daily Batch or Apollo Search. Map the "Lead ID" parameter to the field that holds it.',
		});
	}
	return leadId;
}

/**
 * An error item for continueOnFail, shaped like n8n's own nodes make them: only
 * `error` (and `details`), so that a node set to "Continue (using error output)"
 * routes it there, where n8n adds the input item's fields back.
 */
export function errorItem(
	this: IExecuteFunctions,
	itemIndex: number,
	error: unknown,
): INodeExecutionData {
	const nodeErr = nodeError.call(this, error, itemIndex);
	return {
		json: { error: nodeErr.message, ...(nodeErr.description ? { details: nodeErr.description } : {}) },
		pairedItem: { item: itemIndex },
	};
}

/** The error to throw when not continuing on fail: n8n errors as they are, anything else wrapped. */
export function nodeError(
	this: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	return new NodeOperationError(this.getNode(), error as Error, { itemIndex });
}
