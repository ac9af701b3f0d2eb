import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IDataObject,
	INodeCredentialTestResult,
} from 'n8n-workflow';

/**
 * The credential's test is this node method (each node declares
 * `testedBy: 'corofyApiConnection'` on its credential) rather than the credential's
 * declarative `test`: n8n shows a declarative test's own words only for the status
 * codes it lists and a bare "ECONNREFUSED" otherwise, while a method returns one
 * sentence for every case, which n8n puts in the credential's error banner.
 */
export const credentialTest = { corofyApiConnection: testCorofyCredential };

interface FullResponse {
	statusCode: number;
	body: unknown;
}

/**
 * An authenticated read of the senders: the service says in its own words what is
 * wrong with the key (and where its key is kept); anything that is not the Corofy
 * service is named as such.
 */
export async function testCorofyCredential(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const data = (credential.data ?? {}) as IDataObject;
	const baseUrl = String(data.baseUrl ?? '')
		.trim()
		.replace(/\/+$/, '');
	if (!/^https?:\/\/[^/\s]+/i.test(baseUrl)) {
		return fail(
			`"${baseUrl}" is not a Base URL: use the address where the Corofy service answers, e.g. http://127.0.0.1:8787.`,
		);
	}

	let response: FullResponse;
	try {
		// A credential test gets only the `request` helper (n8n's ICredentialTestFunctions).
		// eslint-disable-next-line @n8n/community-nodes/no-deprecated-workflow-functions
		response = (await this.helpers.request({
			method: 'GET',
			uri: `${baseUrl}/v1/senders`,
			headers: {
				authorization: `Bearer ${String(data.apiKey ?? '')}`,
				accept: 'application/json, application/problem+json',
			},
			json: true,
			resolveWithFullResponse: true,
			simple: false,
			timeout: 15_000,
		})) as FullResponse;
	} catch (error) {
		const code = (error as { code?: string; cause?: { code?: string } }).code ?? (error as { cause?: { code?: string } }).cause?.code;
		return fail(
			`No Corofy service answers at ${baseUrl}${code ? ` (${code})` : ''}. Start the service (npm start) or correct the Base URL.`,
		);
	}

	const body = response.body;
	const problem = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as IDataObject) : {};
	const detail = typeof problem.detail === 'string' ? problem.detail : undefined;
	const status = response.statusCode;
	if (status >= 200 && status < 300) {
		if (Array.isArray(problem.senders)) return { status: 'OK', message: 'Connection tested successfully' };
		return fail(`The server at ${baseUrl} is not a Corofy service: GET /v1/senders did not answer with senders.`);
	}
	if (status === 401 && problem.code === 'unauthorized') {
		return fail(detail ?? 'The API key is wrong. Use the COROFY_API_KEY the service runs with.');
	}
	if (status === 404 || problem.code === undefined) {
		return fail(
			`No Corofy service at ${baseUrl}: GET /v1/senders answered ${status}. Use the address where the service answers /healthz, without a path.`,
		);
	}
	if (status === 503) {
		return fail(`The Corofy service is not ready: ${detail ?? 'its database is unreachable or its schema is behind'} (see ${baseUrl}/readyz).`);
	}
	return fail(`The Corofy service answered ${status}: ${detail ?? String(problem.title ?? 'an error')}.`);
}

function fail(message: string): INodeCredentialTestResult {
	return { status: 'Error', message };
}
