import { rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';
import { postRaw, sentLead } from './inbound-fixture';
import { INBOUND_CASES, JANE, OUR_ID, PAT } from './inbound-messages';

let svc: TestService;
const leads: Record<'jane' | 'pat', string> = { jane: '', pat: '' };

beforeAll(async () => {
  svc = await startTestService();
  leads.jane = await sentLead(svc, JANE, OUR_ID, 'acme-widgets.com');
  leads.pat = await sentLead(svc, PAT, '<s1.pat@mail.outreach.test>');
}, 180_000); // the embedded database starts slowly on a loaded machine
afterAll(() => stopService(svc));

test(`the table holds at least 80 messages of every family`, () => {
  expect(INBOUND_CASES.length).toBeGreaterThanOrEqual(80);
  const kinds = new Set(INBOUND_CASES.map((c) => c.kind));
  expect([...kinds].sort()).toEqual(['auto_reply', 'bounce', 'complaint', 'other', 'reply', 'unsubscribe']);
  expect(INBOUND_CASES.filter((c) => c.recipients?.some(([, hard]) => hard)).length).toBeGreaterThanOrEqual(10);
  expect(INBOUND_CASES.filter((c) => c.recipients?.some(([, hard]) => !hard)).length).toBeGreaterThanOrEqual(10);
});

describe.each(INBOUND_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  test(`is recorded as ${c.kind}${c.recipients ? ` (${c.recipients.map(([e, h]) => `${e} ${h ? 'hard' : 'soft'}`).join(', ')})` : ''}, once`, async () => {
    const first = await postRaw(svc, c.raw);
    expect(first.status).toBe(200);
    expect(first.body.kind).toBe(c.kind);
    expect(first.body.duplicate).toBe(false);
    if (c.lead !== undefined) expect(first.body.leadId).toBe(c.lead === null ? null : leads[c.lead]);
    if (c.company) expect(first.body.matchedBy).toBe('company');
    if (c.recipients) {
      expect(first.body.bounce.recipients.map((r: any) => [r.email, r.hard])).toEqual(c.recipients);
      for (const r of first.body.bounce.recipients) expect(r.status).toMatch(/^[245]\.\d{1,3}\.\d{1,3}$/);
    } else {
      expect(first.body.bounce).toBeNull();
    }
    if (c.kind === 'other') expect(first.body.event).toBeNull();
    else if (c.kind !== 'complaint' || c.lead) expect(first.body.event).toEqual(expect.objectContaining({ eventId: expect.any(String) }));

    const eventsBefore = await rawSql(svc)('select count(*)::int as n from events');
    const again = await postRaw(svc, c.raw);
    expect(again.body).toEqual({ ...first.body, duplicate: true });
    expect(await rawSql(svc)('select count(*)::int as n from events')).toEqual(eventsBefore);
  });
});

test('every message was recorded once in inbound_messages, by Message-ID', async () => {
  const [{ n }] = await rawSql(svc)('select count(*)::int as n from inbound_messages');
  expect(n).toBe(INBOUND_CASES.length);
});
