import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, sleep } from 'n8n-workflow';

export const CREDENTIAL_NAME = 'corofyApi';

/** The node option that bounds how long a request is repeated while the service is unavailable. */
export const RETRY_FOR_PARAMETER = 'retryUnavailableFor';
export const DEFAULT_RETRY_FOR_SECONDS = 60;

/** The first pause between two tries, and the longest (before jitter). */
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8_000;

/** Socket errors after which the request may or may not have reached the service. */
const CONNECTION_RESET = /ECONNRESET|EPIPE|socket hang up/i;

type CorofyContext = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions;

interface FullResponse {
	statusCode: number;
	headers?: Record<string, unknown>;
	body: unknown;
}

export interface CorofyRequestOptions {
	/**
	 * The operation gives the same outcome when it is sent twice (the caller names
	 * how: an idempotency key, a stored draft, …). Only such a request is sent again
	 * after an answer we never got (connection reset) or a 503 the service marks
	 * as passing (it carries Retry-After: the database was restarted, timed out).
	 */
	safeToRepeat?: boolean;
	/** For a text body (e.g. a raw message as message/rfc822). */
	contentType?: string;
}

/**
 * The one way our nodes talk to the Corofy service: the credential adds the Bearer
 * key, and a problem document (RFC 9457) becomes a NodeApiError whose message is the
 * problem's title and whose description is its detail, so the operator reads the
 * service's own sentence in n8n. A request that is safe to repeat rides out a
 * database restart: it is tried again with backoff and jitter, never sooner than
 * the service's Retry-After, for at most the node's "Retry Unavailable Service For"
 * seconds; then the service's own problem is the error.
 */
export async function corofyApiRequest(
	this: CorofyContext,
	method: IHttpRequestMethods,
	path: string,
	body?: IDataObject | string,
	qs?: IDataObject,
	itemIndex?: number,
	// a GET changes nothing (RFC 9110 §9.2.1)
	{ safeToRepeat = method === 'GET', contentType }: CorofyRequestOptions = {},
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

	const retryForMs = safeToRepeat ? retryBudgetMs.call(this, itemIndex) : 0;
	const deadline = Date.now() + retryForMs;
	for (let attempt = 0; ; attempt++) {
		let response: FullResponse;
		try {
			response = (await this.helpers.httpRequestWithAuthentication.call(
				this,
				CREDENTIAL_NAME,
				options,
			)) as FullResponse;
		} catch (error) {
			const wait = backoffMs(attempt, 0);
			if (isConnectionReset(error) && Date.now() + wait <= deadline) {
				await sleep(wait);
				continue;
			}
			throw unreachable.call(this, baseUrl, error, itemIndex);
		}

		const parsed = parseBody(response.body);
		if (response.statusCode === 503 && retryForMs > 0) {
			const retryAfter = retryAfterMs(response.headers);
			const wait = retryAfter === undefined ? undefined : backoffMs(attempt, retryAfter);
			if (wait !== undefined && Date.now() + wait <= deadline) {
				await sleep(wait);
				continue;
			}
		}
		if (response.statusCode >= 400) {
			throw problemToError.call(this, response.statusCode, parsed, itemIndex);
		}
		if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
			return { data: parsed as IDataObject[] };
		}
		return parsed as IDataObject;
	}
}

function retryBudgetMs(this: CorofyContext, itemIndex: number | undefined): number {
	// Only an executing node waits out an unavailable service; in the editor (option
	// lists) and on webhook registration the operator is there to see the error at once.
	if (!('getInputData' in this)) return 0;
	const seconds = Number(
		(this as IExecuteFunctions).getNodeParameter(RETRY_FOR_PARAMETER, itemIndex ?? 0, DEFAULT_RETRY_FOR_SECONDS),
	);
	return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/**
 * Exponential backoff with jitter (a random point in the upper half of the
 * step, so that many executions restarted at once do not come back in step),
 * never shorter than what the service asked for.
 */
function backoffMs(attempt: number, atLeastMs: number): number {
	const step = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
	return Math.max(atLeastMs, step / 2 + Math.random() * (step / 2));
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent. */
function retryAfterMs(headers: Record<string, unknown> | undefined): number | undefined {
	const raw = headers?.['retry-after'] ?? headers?.['Retry-After'];
	if (raw === undefined || raw === null) return undefined;
	const text = String(Array.isArray(raw) ? raw[0] : raw).trim();
	if (/^\d+$/.test(text)) return Number(text) * 1000;
	const at = Date.parse(text);
	return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function isConnectionReset(error: unknown): boolean {
	const e = error as { code?: unknown; message?: unknown; cause?: { code?: unknown } } | undefined;
	return [e?.code, e?.cause?.code, e?.message].some((v) => typeof v === 'string' && CONNECTION_RESET.test(v));
}

function unreachable(
	this: CorofyContext,
	baseUrl: string,
	error: unknown,
	itemIndex: number | undefined,
): NodeApiError {
	const message = `Could not reach the Corofy service at ${baseUrl || '(no base URL)'}`;
	const description = `${(error as Error).message}. Check the Base URL of the Corofy API credential and that the service is running.`;
	const apiError = new NodeApiError(this.getNode(), error as JsonObject, { message, description, itemIndex });
	// NodeApiError swaps in a generic text for connection errors; keep ours, which names the URL.
	apiError.message = message;
	apiError.description = description;
	return apiError;
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
