// The shipped workflow JSON, run by n8n-core's execution engine with our nodes,
// against a real Corofy service (real HTTP) with the fake providers.
import type { IDataObject } from 'n8n-workflow';
import { startFakeApollo, type FakeApollo } from '../../sandbox/fake-apollo';
import { startFakeFirecrawl, type FakeFirecrawl } from '../../sandbox/fake-firecrawl';
import { startFakeOpenAI, type FakeOpenAI } from '../../sandbox/fake-openai';
import { startTestService, TEST_API_KEY, type TestService } from '../../service/test/support/test-service';
import { Outbox, readWorkflow, runWorkflow } from './support/workflow-runner';
import { ALL_DAYS_WINDOW, localHour, zonesByWindow } from './support/zones';

let apollo: FakeApollo;
let openai: FakeOpenAI;
let firecrawl: FakeFirecrawl;
let svc: TestService;
const outbox = new Outbox();

const daily = readWorkflow('daily-pipeline.json');
const drain = readWorkflow('queue-drain.json');
const replies = readWorkflow('replies.json');
const run = (wf: typeof daily, startNode: string, startItem?: IDataObject, apiKey = TEST_API_KEY) =>
  runWorkflow(wf, { baseUrl: svc.url, apiKey, outbox, startNode, startItem });

const { inside, outside, senderZone } = zonesByWindow();
const tag = Date.now().toString(36);
const insideLeads = [0, 1, 2].map((i) => ({
  email: `in${i}-${tag}@buyer${i}.example`,
  firstName: `Inga${i}`,
  lastName: 'Inside',
  companyName: `Inside Lubes ${i}`,
  industry: 'lubricants',
  timezone: inside[i % inside.length]!,
}));
const outsideLeads = [0, 1, 2].map((i) => ({
  email: `out${i}-${tag}@buyer${i}.example`,
  firstName: `Otto${i}`,
  lastName: 'Outside',
  companyName: `Outside Oils ${i}`,
  industry: 'lubricants',
  timezone: outside[i % outside.length]!,
}));
const suppressedLead = { email: `stop-${tag}@optout.example`, firstName: 'Stop', industry: 'lubricants', timezone: inside[0]! };
const emailsOf = (items: Record<string, unknown>[], field = 'email') => items.map((i) => String(i[field])).sort();

beforeAll(async () => {
  apollo = await startFakeApollo({ seed: 11, people: 400 });
  openai = await startFakeOpenAI();
  firecrawl = await startFakeFirecrawl();
  svc = await startTestService({
    APOLLO_API_KEY: apollo.state.apiKey,
    APOLLO_BASE_URL: apollo.url,
    OPENAI_API_KEY: 'sk-test-workflows',
    OPENAI_BASE_URL: openai.baseUrl,
    FIRECRAWL_API_KEY: 'fc-test',
    FIRECRAWL_API_URL: firecrawl.url,
    COROFY_PUBLIC_URL: 'https://corofy.test',
    COROFY_RETRY_BACKOFF_SECONDS: '0',
  });
  const put = await svc.api('PUT', '/v1/senders/default', {
    dailyQuota: 6,
    timezone: senderZone,
    ...ALL_DAYS_WINDOW,
    fromName: 'Jane Seller',
    fromEmail: 'jane@seller.example',
    postalAddress: '1 Harbour Road, Rotterdam, NL',
  });
  expect(put.status).toBe(200);
  // The suppressed lead comes first in sequence: the claim must pass over it.
  const imported = await svc.api('POST', '/v1/leads/import', {
    leads: [suppressedLead, insideLeads[0], outsideLeads[0], insideLeads[1], outsideLeads[1], insideLeads[2], outsideLeads[2]],
  });
  expect(imported.body.imported).toBe(7);
  expect((await svc.api('POST', '/v1/suppressions', { email: suppressedLead.email, reason: 'asked to stop' })).status).toBe(200);
}, 240_000); // a new database migrates slowly on a busy machine

afterAll(async () => {
  await svc?.stop();
  await apollo?.close();
  await openai?.close();
  await firecrawl?.close();
});

describe('daily pipeline', () => {
  let first: Awaited<ReturnType<typeof run>>;

  beforeAll(async () => {
    // The third inside lead's mailbox answers with a temporary failure on this run.
    outbox.failFor.set(insideLeads[2]!.email, '451 4.3.0 Mailbox temporarily unavailable');
    first = await run(daily, 'Run Now');
    outbox.failFor.clear();
  }, 60_000);

  test('tops up from Apollo with exactly the quota left today', () => {
    expect(first.output('Quota Left Today')).toEqual([expect.objectContaining({ sender: 'default', remaining: 6 })]);
    const [summary] = first.output('Apollo Search');
    expect(summary).toEqual(expect.objectContaining({ searched: true, leadsWanted: 6 }));
    expect(summary!.leadsAdded).toBeGreaterThan(0);
    expect(summary!.creditsUsed).toBe(summary!.leadsAdded);
    expect(summary).not.toHaveProperty('leads');
  });

  test("claims today's batch in sequence order, passing over the suppressed lead", () => {
    const claimed = first.output('Claim Daily Batch');
    expect(claimed.map((l) => l.email)).toEqual([
      insideLeads[0]!.email,
      outsideLeads[0]!.email,
      insideLeads[1]!.email,
      outsideLeads[1]!.email,
      insideLeads[2]!.email,
      outsideLeads[2]!.email,
    ]);
    for (const lead of claimed) {
      expect(lead).toEqual(expect.objectContaining({ leadId: expect.stringMatching(/^\d+$/), batchId: expect.any(String), sender: 'default' }));
      expect(lead).not.toHaveProperty('id');
    }
  });

  test('composes every claimed lead and merges the draft onto it', () => {
    const composed = first.output('Compose Email');
    expect(composed).toHaveLength(6);
    const claimedIds = first.output('Claim Daily Batch').map((l) => l.leadId);
    expect(composed.map((item) => item.leadId)).toEqual(claimedIds);
    for (const item of composed) {
      expect(item).toEqual(
        expect.objectContaining({
          subject: expect.any(String),
          text: expect.stringContaining(String(item.firstName)),
          html: expect.any(String),
          source: 'catalog',
          email: expect.any(String),
        }),
      );
    }
    expect(first.output('Compose Email', 1)).toEqual([]);
  });

  test('the gate sends inside-window leads now and schedules the others', () => {
    const now = first.output('Timezone Gate', 0);
    const later = first.output('Timezone Gate', 1);
    expect(emailsOf(now, 'to')).toEqual(emailsOf(insideLeads));
    expect(emailsOf(later, 'to')).toEqual(emailsOf(outsideLeads));
    for (const send of now) {
      expect(send).toEqual(
        expect.objectContaining({
          gate: 'sendNow',
          status: 'sending',
          sendId: expect.stringMatching(/^\d+$/),
          subject: expect.any(String),
          text: expect.any(String),
          html: expect.any(String),
          unsubscribeUrl: expect.stringContaining('https://corofy.test/unsubscribe/'),
        }),
      );
      const hour = localHour(String(send.timezone));
      expect(hour >= 9 && hour < 17).toBe(true);
    }
    for (const send of later) {
      expect(send).toEqual(expect.objectContaining({ gate: 'scheduled', status: 'scheduled' }));
      expect(Date.parse(String(send.sendAt))).toBeGreaterThan(Date.now());
      expect(localHour(String(send.timezone), new Date(String(send.sendAt)))).toBeGreaterThanOrEqual(9);
    }
  });

  test('sends without attribution and reports each result, failures through the error output', () => {
    const gateNow = first.output('Timezone Gate', 0);
    const sendIdOf = (email: string) => gateNow.find((s) => s.to === email)!.sendId;
    expect(outbox.sent.map((m) => m.to).sort()).toEqual(emailsOf(insideLeads.slice(0, 2)));
    for (const mail of outbox.sent) {
      expect(mail.appendAttribution).toBe(false);
      expect(mail.subject).not.toBe('');
    }
    const sent = first.output('Report Sent');
    expect(sent.map((r) => r.sendId).sort()).toEqual(insideLeads.slice(0, 2).map((l) => sendIdOf(l.email)).sort());
    // each report names the attempt it is about, so a late report can never settle a later attempt
    for (const r of sent) expect(r).toEqual(expect.objectContaining({ status: 'sent', attempt: 1, messageId: expect.stringMatching(/^<test-/) }));
    const failed = first.output('Report Failed');
    expect(failed).toEqual([
      expect.objectContaining({ sendId: sendIdOf(insideLeads[2]!.email), status: 'failed', attempt: 1, permanent: false, error: expect.stringContaining('451') }),
    ]);
    expect(failed[0]!.report).toEqual(expect.objectContaining({ recorded: 1, retrying: 1, deadLettered: 0 }));
  });

  test('a second run the same day buys, claims and sends nothing', async () => {
    const searchesBefore = apollo.state.counts.search;
    const sentBefore = outbox.sent.length;
    const second = await run(daily, 'Run Now');
    expect(second.output('Quota Left Today')[0]!.remaining).toBe(0);
    expect(second.output('Apollo Search')).toEqual([expect.objectContaining({ searched: false, leadsWanted: 0 })]);
    expect(second.ran('Claim Daily Batch')).toBe(true);
    expect(second.output('Claim Daily Batch')).toEqual([]);
    expect(second.ran('Compose Email')).toBe(false);
    expect(apollo.state.counts.search).toBe(searchesBefore);
    expect(outbox.sent.length).toBe(sentBefore);
  });
});

describe('queue drain', () => {
  test('sends the due retry once, and nothing on the next round', async () => {
    const before = outbox.sent.length;
    const drained = await run(drain, 'Run Now');
    expect(drained.output('Claim Due Sends').map((s) => s.to)).toEqual([insideLeads[2]!.email]);
    expect(outbox.sent.slice(before).map((m) => m.to)).toEqual([insideLeads[2]!.email]);
    expect(drained.output('Report Sent')).toEqual([
      expect.objectContaining({ status: 'sent', attempt: 2, sendId: drained.output('Claim Due Sends')[0]!.sendId }),
    ]);

    const again = await run(drain, 'Run Now');
    expect(again.output('Claim Due Sends')).toEqual([]);
    expect(again.ran('Send Email')).toBe(false);
    expect(outbox.sent.length).toBe(before + 1);
  });
});

describe('replies webhook', () => {
  test('a reply to a sent email (by In-Reply-To) stops that lead', async () => {
    const mail = outbox.sent.find((m) => m.to === insideLeads[0]!.email)!;
    const r = await run(replies, 'Event Webhook', {
      headers: { 'content-type': 'application/json' },
      params: {},
      query: {},
      body: { kind: 'reply', inReplyTo: mail.messageId, subject: `Re: ${mail.subject}`, text: 'Tell me more' },
    });
    expect(r.output('Record Event')).toEqual([expect.objectContaining({ kind: 'reply', status: 'replied', duplicate: false })]);
    const lead = await svc.api('GET', `/v1/leads/${r.output('Record Event')[0]!.leadId}`);
    expect(lead.body.email).toBe(insideLeads[0]!.email);
  });

  test('a reply from a lead still scheduled cancels its send', async () => {
    const r = await run(replies, 'Event Webhook', {
      headers: {},
      params: {},
      query: {},
      body: { kind: 'reply', email: outsideLeads[0]!.email, text: 'Not interested' },
    });
    expect(r.output('Record Event')).toEqual([expect.objectContaining({ status: 'replied', cancelledSends: 1 })]);
  });

  test('service problems surface as NodeApiError with the service’s own words', async () => {
    const r = await run(replies, 'Event Webhook', { headers: {}, params: {}, query: {}, body: { kind: 'reply', email: 'x@y.example' } }, 'wrong-key-0123456789');
    const error = r.error('Record Event') as Error & { description?: string; httpCode?: string };
    expect(error).toBeDefined();
    expect(error.message).toBe('Unauthorized (unauthorized)');
    expect(error.description).toBe('The API key is wrong. Use the COROFY_API_KEY the service runs with (set in its environment).');
    expect(error.httpCode).toBe('401');
  });
});

describe('stats', () => {
  // The cancelled send (a reply) gives its quota back.
  test('agree with what was sent and replied', async () => {
    const stats = await svc.api('GET', '/v1/stats?sender=default');
    expect(stats.body).toEqual(expect.objectContaining({ quota: 6, sent: 3, sending: 0, scheduled: 2, cancelled: 1, replied: 2, remaining: 1 }));
    expect(stats.body.apolloCreditsUsed).toBe(apollo.state.creditsUsed);
  });
});
