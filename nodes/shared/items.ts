import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

/**
 * Runs `handle` for every input item: the one item loop of our nodes. Each item's
 * output keeps `pairedItem`, and a failing item either stops the node (n8n's default)
 * or, when the node continues on fail, becomes an error item in its place.
 */
export async function forEachItem(
	this: IExecuteFunctions,
	handle: (itemIndex: number) => Promise<IDataObject | IDataObject[] | undefined>,
): Promise<INodeExecutionData[]> {
	const out: INodeExecutionData[] = [];
	const count = this.getInputData().length;
	for (let i = 0; i < count; i++) {
		try {
			const result = await handle(i);
			if (result === undefined) continue;
			for (const json of Array.isArray(result) ? result : [result]) out.push({ json, pairedItem: { item: i } });
		} catch (error) {
			failItems.call(this, [i], error, out);
		}
	}
	return out;
}

/**
 * One call for several items failed (or one item failed its checks): throw it, or,
 * when the node continues on fail, add an error item for each of them to `out`.
 * `keepGoing` continues even so — for a node that already handed out work it must
 * not lose (the Timezone Gate after a call leased emails).
 */
export function failItems(
	this: IExecuteFunctions,
	itemIndexes: number[],
	error: unknown,
	out: INodeExecutionData[],
	keepGoing = false,
): void {
	if (!keepGoing && !this.continueOnFail()) throw nodeError.call(this, error, itemIndexes[0] ?? 0);
	for (const i of itemIndexes) out.push(errorItem.call(this, i, error));
}

/**
 * A lead item as our nodes output it: the service's lead with its id named `leadId`,
 * the one name every node reads (Compose Email, Timezone Gate) and every later item
 * carries (drafts, sends).
 */
export function leadItem(lead: IDataObject, extra: IDataObject = {}): IDataObject {
	const { id, ...rest } = lead;
	return { leadId: id, ...rest, ...extra };
}

/** Reads the lead ID parameter of one item; a lead ID is a positive integer in text. */
export function leadIdOf(this: IExecuteFunctions, itemIndex: number): string {
	const raw = this.getNodeParameter('leadId', itemIndex, '') as string | number;
	const leadId = String(raw).trim();
	if (!/^[1-9][0-9]{0,18}$/.test(leadId)) {
		throw new NodeOperationError(this.getNode(), `"${leadId}" is not a Corofy lead ID`, {
			itemIndex,
			description:
				'Lead IDs are whole numbers, as output by Claim Daily Batch or Apollo Search in "leadId". Map the "Lead ID" parameter to the field that holds it.',
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
