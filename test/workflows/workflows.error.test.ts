// Provider failures in the shipped daily pipeline: they surface in n8n as the
// service's own problem (never as "0 leads"), and one lead that cannot be
// composed goes to the error output while the others are sent.
import { startFakeApollo, type FakeApollo } from '../../sandbox/fake-apollo';
import { startFakeFirecrawl, type FakeFirecrawl } from '../../sandbox/fake-firecrawl';
import { startFakeOpenAI, type FakeOpenAI } from '../../sandbox/fake-openai';
import { startTestService, TEST_API_KEY, type TestService } from '../../service/test/support/test-service';
import { Outbox, readWorkflow, runWorkflow } from './support/workflow-runner';
import { ALL_DAYS_WINDOW, zonesByWindow } from './support/zones';

let apollo: FakeApollo;
let openai: FakeOpenAI;
let firecrawl: FakeFirecrawl;
let svc: TestService;
const outbox = new Outbox();
const daily = readWorkflow('daily-pipeline.json');
const { inside, senderZone } = zonesByWindow();
const tag = Date.now().toString(36);
const leads = [0, 1, 2].map((i) => ({
  email: `lead${i}-${tag}@plant${i}.example`,
  firstName: `Lena${i}`,
  companyName: `Plant ${i}`,
  industry: 'lubricants',
  timezone: inside[0]!,
}));

beforeAll(async () => {
  apollo = await startFakeApollo({ seed: 3, people: 200, credits: 0 });
  // The first lead's draft is flawed twice (first try and the one regeneration).
  openai = await startFakeOpenAI({ faults: [{ fault: { kind: 'bad_draft', flaw: 'placeholder' }, times: 2 }] });
  firecrawl = await startFakeFirecrawl();
  svc = await startTestService({
    APOLLO_API_KEY: apollo.state.apiKey,
    APOLLO_BASE_URL: apollo.url,
    APOLLO_MAX_RETRIES: '0',
    OPENAI_API_KEY: 'sk-test-errors',
    OPENAI_BASE_URL: openai.baseUrl,
    OPENAI_RETRY_BASE_MS: '5',
    COMPOSE_CONCURRENCY: '1',
    FIRECRAWL_API_KEY: 'fc-test',
    FIRECRAWL_API_URL: firecrawl.url,
    COROFY_PUBLIC_URL: 'https://corofy.test',
  });
  await svc.api('PUT', '/v1/senders/default', {
    dailyQuota: 3,
    timezone: senderZone,
    ...ALL_DAYS_WINDOW,
    fromName: 'Jane Seller',
    postalAddress: '1 Harbour Road, Rotterdam, NL',
  });
  expect((await svc.api('POST', '/v1/leads/import', { leads })).body.imported).toBe(3);
}, 240_000); // a new database migrates slowly on a busy machine

afterAll(async () => {
  await svc?.stop();
  await apollo?.close();
  await openai?.close();
  await firecrawl?.close();
});

test('Apollo out of credits stops the pipeline with the service’s own problem, nothing claimed', async () => {
  const r = await runWorkflow(daily, { baseUrl: svc.url, apiKey: TEST_API_KEY, outbox, startNode: 'Run Now' });
  const error = r.error('Apollo Search') as Error & { description?: string; httpCode?: string };
  expect(error).toBeDefined();
  expect(error.message).toMatch(/\(apollo_insufficient_credits\)$/);
  expect(error.httpCode).toBe('402');
  expect(error.description).toMatch(/credit/i);
  expect(r.ran('Claim Daily Batch')).toBe(false);
  expect((await svc.api('GET', '/v1/stats')).body.claimed).toBe(0);
});

test('a lead that cannot be composed goes to the error output; the others go on; a 5.x.x bounce is dead-lettered', async () => {
  apollo.state.credits = 1000;
  outbox.failFor.set(leads[2]!.email, `550 5.1.1 <${leads[2]!.email}>: Recipient address rejected: User unknown`);
  const r = await runWorkflow(daily, { baseUrl: svc.url, apiKey: TEST_API_KEY, outbox, startNode: 'Run Now' });
  expect(r.output('Claim Daily Batch')).toHaveLength(3);
  const failed = r.output('Compose Email', 1);
  expect(failed).toHaveLength(1);
  expect(failed[0]).toEqual(
    expect.objectContaining({
      email: leads[0]!.email,
      error: expect.stringMatching(/^Lead \d+ could not be composed \(\w+\)$/),
      details: expect.stringContaining('placeholder'),
    }),
  );
  // The error output is wired to a visible node, not left dangling.
  expect(r.output('Not Composed')).toEqual(failed);
  expect(r.output('Compose Email', 0).map((l) => l.email)).toEqual([leads[1]!.email, leads[2]!.email]);
  expect(outbox.sent.map((m) => m.to)).toEqual([leads[1]!.email]);
  expect(r.output('Report Sent')).toHaveLength(1);
  expect(r.output('Report Failed')).toEqual([
    expect.objectContaining({ status: 'failed', permanent: true, report: expect.objectContaining({ deadLettered: 1, retrying: 0 }) }),
  ]);
  const dead = await svc.api('GET', '/v1/sends?status=dead');
  expect(dead.body.sends.map((s: { to: string }) => s.to)).toEqual([leads[2]!.email]);
});

test('an unreachable service is named in the error, with what to check', async () => {
  const replies = readWorkflow('replies.json');
  const r = await runWorkflow(replies, {
    baseUrl: 'http://127.0.0.1:9',
    apiKey: TEST_API_KEY,
    outbox,
    startNode: 'Event Webhook',
    startItem: { headers: {}, params: {}, query: {}, body: { kind: 'bounce', email: 'gone@nowhere.example' } },
  });
  const error = r.error('Record Event') as Error & { description?: string };
  expect(error.message).toBe('Could not reach the Corofy service at http://127.0.0.1:9');
  expect(error.description).toMatch(/Check the Base URL of the Corofy API credential/);
});
