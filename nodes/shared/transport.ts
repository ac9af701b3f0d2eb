import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

export const CREDENTIAL_NAME = 'corofyApi';

type CorofyContext = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions;

interface FullResponse {
	statusCode: number;
	body: unknown;
}

/**
 * The one way our nodes talk to the Corofy service: the credential adds the Bearer
 * key, and a problem document (RFC 9457) becomes a NodeApiError whose message is the
 * problem's title and whose description is its detail, so the operator reads the
 * service's own sentence in n8n.
 */
export async function corofyApiRequest(
	this: CorofyContext,
	method: IHttpRequestMethods,
	path: string,
	body?: IDataObject | string,
	qs?: IDataObject,
	itemIndex?: number,
	/** For a text body (e.g. a raw message as message/rfc822). */
	contentType?: string,
): Promise<IDataObject> {
	const credentials = await this.getCredentials<{ baseUrl: string }>(CREDENTIAL_NAME);
	const baseUrl = String(credentials.baseUrl ?? '').replace(/\/+$/, '');
	const options: IHttpRequestOptions = {
		method,
		url: `${baseUrl}${path}`,
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		headers: {
			accept: 'application/json, application/problem+json',
			...(contentType ? { 'content-type': contentType } : {}),
		},
	};
	if (body !== undefined) options.body = body;
	if (qs !== undefined) options.qs = qs;

	let response: FullResponse;
	try {
		response = (await this.helpers.httpRequestWithAuthentication.call(
			this,
			CREDENTIAL_NAME,
			options,
		)) as FullResponse;
	} catch (error) {
		const message = `Could not reach the Corofy service at ${baseUrl || '(no base URL)'}`;
		const description = `${(error as Error).message}. Check the Base URL of the Corofy API credential and that the service is running.`;
		const apiError = new NodeApiError(this.getNode(), error as JsonObject, { message, description, itemIndex });
		// NodeApiError swaps in a generic text for connection errors; keep ours, which names the URL.
		apiError.message = message;
		apiError.description = description;
		throw apiError;
	}

	const parsed = parseBody(response.body);
	if (response.statusCode >= 400) {
		throw problemToError.call(this, response.statusCode, parsed, itemIndex);
	}
	if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
		return { data: parsed as IDataObject[] };
	}
	return parsed as IDataObject;
}

function parseBody(body: unknown): unknown {
	if (typeof body !== 'string') return body;
	if (body === '') return {};
	try {
		return JSON.parse(body);
	} catch {
		return body;
	}
}

function problemToError(
	this: CorofyContext,
	status: number,
	body: unknown,
	itemIndex: number | undefined,
): NodeApiError {
	const problem: IDataObject =
		body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as IDataObject) : {};
	const title = typeof problem.title === 'string' ? problem.title : `HTTP ${status}`;
	const code = typeof problem.code === 'string' ? problem.code : undefined;
	let detail =
		typeof problem.detail === 'string'
			? problem.detail
			: typeof body === 'string' && body !== ''
				? body.slice(0, 500)
				: `The Corofy service answered ${status}.`;
	if (typeof problem.retryAfter === 'number') detail += ` Retry after ${problem.retryAfter} s.`;
	const error = new NodeApiError(this.getNode(), { ...problem, status } as JsonObject, {
		message: code ? `${title} (${code})` : title,
		description: detail,
		httpCode: String(status),
		itemIndex,
	});
	// NodeApiError swaps well-known status messages in; keep the service's own words.
	error.message = code ? `${title} (${code})` : title;
	error.description = detail;
	return error;
}

/** Splits a list into chunks of at most `size` (the service caps every batch call). */
export function chunk<T>(values: T[], size: number): T[][] {
	const chunks: T[][] = [];
	for (let i = 0; i < values.length; i += size) chunks.push(values.slice(i, i + size));
	return chunks;
}

/** Comma- or newline-separated text → trimmed, non-empty values. */
export function splitList(value: unknown): string[] {
	if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter((v) => v !== '');
	if (typeof value !== 'string') return [];
	return value
		.split(/[\n,]/)
		.map((v) => v.trim())
		.filter((v) => v !== '');
}
