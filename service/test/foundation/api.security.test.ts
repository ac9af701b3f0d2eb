import { startTestService, TEST_API_KEY, type TestService } from '../support/test-service';

const lines: string[] = [];
let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ LOG_LEVEL: 'debug' }, undefined, { write: (l: string) => void lines.push(l) });
});
afterAll(async () => svc?.stop());

test('X-Request-Id is honoured, echoed and on the log line; the key never is', async () => {
  const res = await svc.api('GET', '/v1/senders', undefined, { 'x-request-id': 'trace-abc-123' });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
  await svc.api('GET', '/v1/senders', undefined, { authorization: 'Bearer some-wrong-secret-value' });

  const generated = await svc.api('GET', '/healthz');
  expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

  const log = lines.join('');
  const requestLine = lines.map((l) => JSON.parse(l)).find((l) => l.requestId === 'trace-abc-123');
  expect(requestLine).toMatchObject({ method: 'GET', path: '/v1/senders', status: 200 });
  expect(log).not.toContain(TEST_API_KEY);
  expect(log).not.toContain('some-wrong-secret-value');
});

test('the OpenAPI document is generated from the route schemas', async () => {
  const res = await svc.api('GET', '/openapi.json');
  expect(res.body.openapi).toMatch(/^3\./);
  expect(Object.keys(res.body.paths)).toEqual(
    expect.arrayContaining(['/healthz', '/readyz', '/v1/leads/import', '/v1/leads/{id}', '/v1/senders', '/v1/senders/{id}', '/v1/stats']),
  );
  expect(res.body.components.schemas.LeadInput.properties.email).toBeDefined();
  expect(res.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
});
