// Test support (not product): the real service on a real port and a fresh database.
import { createLogger } from '../../src/app/logger';
import { loadConfig } from '../../src/config/env';
import { startService, type RunningService } from '../../src/server';
import { createTestDatabase, type TestDatabase } from './database';

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';
export const TEST_SECRET_KEY = 'test-secret-key-0123456789abcdef0123456789';

export interface TestService extends RunningService {
  database: TestDatabase;
  /** fetch against the service with the API key and JSON body. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** The same request handed to the app in-process (app.request), for tests where the socket is not the point. */
  inProcess(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

export async function startTestService(
  env: Record<string, string> = {},
  database?: TestDatabase,
  logDestination?: { write(line: string): void },
): Promise<TestService> {
  const db = database ?? (await createTestDatabase());
  const config = loadConfig({
    PORT: '0',
    COROFY_API_KEY: TEST_API_KEY,
    COROFY_SECRET_KEY: TEST_SECRET_KEY,
    LOG_LEVEL: 'silent',
    COROFY_SWEEP_INTERVAL_MS: '0',
    ...db.env,
    ...env,
  });
  const service = await startService(config, createLogger(config.logLevel, logDestination));
  return {
    ...service,
    database: db,
    api: (method, path, body, headers = {}) => callApi(service.url, method, path, body, headers),
    inProcess: (method, path, body, headers = {}) =>
      readResponse(service.app.request(path, requestInit(method, body, headers))),
    stop: async () => {
      await service.close();
      if (!database) await db.drop();
    },
  };
}

export async function callApi(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  return readResponse(fetch(`${baseUrl}${path}`, requestInit(method, body, headers)));
}

function requestInit(method: string, body: unknown, headers: Record<string, string>): RequestInit {
  return {
    method,
    headers: {
      authorization: `Bearer ${TEST_API_KEY}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  };
}

async function readResponse(response: Response | Promise<Response>): Promise<ApiResponse> {
  const res = await response;
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (e.g. the unsubscribe page): keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
