// The Corofy API credential's test as n8n runs it (n8n-core's CredentialTestContext,
// real HTTP): one sentence for each way it can be wrong, the service's own words for
// a wrong key.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CredentialTestContext } from 'n8n-core';
import type { ICredentialsDecrypted, INodeType } from 'n8n-workflow';
import { ApolloSearch } from '../../nodes/ApolloSearch/ApolloSearch.node';
import { ClaimDailyBatch } from '../../nodes/ClaimDailyBatch/ClaimDailyBatch.node';
import { ComposeEmail } from '../../nodes/ComposeEmail/ComposeEmail.node';
import { Corofy } from '../../nodes/Corofy/Corofy.node';
import { TimezoneGate } from '../../nodes/TimezoneGate/TimezoneGate.node';
import { testCorofyCredential } from '../../nodes/shared/credential-test';
import { startTestService, TEST_API_KEY, type TestService } from '../../service/test/support/test-service';

let svc: TestService;
let notCorofy: http.Server;
let notCorofyUrl: string;

beforeAll(async () => {
  svc = await startTestService();
  notCorofy = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'));
  await new Promise<void>((resolve) => notCorofy.listen(0, '127.0.0.1', resolve));
  notCorofyUrl = `http://127.0.0.1:${(notCorofy.address() as AddressInfo).port}`;
}, 240_000); // a new database migrates slowly on a busy machine

afterAll(async () => {
  await svc?.stop();
  await new Promise((resolve) => notCorofy?.close(resolve));
});

const test_ = (baseUrl: string, apiKey = TEST_API_KEY) =>
  testCorofyCredential.call(new CredentialTestContext(undefined as never), {
    id: 'c1',
    name: 'Corofy API',
    type: 'corofyApi',
    data: { baseUrl, apiKey },
  } as ICredentialsDecrypted);

test('the right key at the service’s address passes, with or without a trailing slash', async () => {
  expect(await test_(svc.url)).toEqual({ status: 'OK', message: 'Connection tested successfully' });
  expect((await test_(`${svc.url}/`)).status).toBe('OK');
});

test('a wrong key: the service’s own sentence, which says where the key is and not what it is', async () => {
  const r = await test_(svc.url, 'not-the-key-0123456789');
  expect(r).toEqual({
    status: 'Error',
    message: 'The API key is wrong. Use the COROFY_API_KEY the service runs with (set in its environment).',
  });
  expect(r.message).not.toContain(TEST_API_KEY);
});

test('nothing listening: names the URL and what to do, not only ECONNREFUSED', async () => {
  const dead = await new Promise<number>((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
  expect(await test_(`http://127.0.0.1:${dead}`)).toEqual({
    status: 'Error',
    message: `No Corofy service answers at http://127.0.0.1:${dead} (ECONNREFUSED). Start the service (npm start) or correct the Base URL.`,
  });
});

test('a server that is not Corofy, and a Base URL that is not one, are named as such', async () => {
  expect((await test_(notCorofyUrl)).message).toBe(
    `No Corofy service at ${notCorofyUrl}: GET /v1/senders answered 404. Use the address where the service answers /healthz, without a path.`,
  );
  expect((await test_('127.0.0.1:8787')).message).toMatch(/^"127\.0\.0\.1:8787" is not a Base URL/);
});

test('every node with the credential is tested by this method, so n8n finds it whichever node it asks', () => {
  const nodes: INodeType[] = [new ApolloSearch(), new ClaimDailyBatch(), new ComposeEmail(), new TimezoneGate(), new Corofy()];
  for (const node of nodes) {
    expect(node.description.credentials).toEqual([{ name: 'corofyApi', required: true, testedBy: 'corofyApiConnection' }]);
    expect(node.methods?.credentialTest?.corofyApiConnection).toBe(testCorofyCredential);
  }
});
