// Stop conditions through real inbound mail (POST /v1/inbound, raw RFC 822):
// a reply from a colleague at the company stops every lead of that company
// (stopForCompany, on by default) and cancels their follow-ups in the same
// transaction; an out-of-office, when the sender stops on them, stops only its
// own lead, never the company; with stopForCompany off, a reply stops one lead.
import { postRaw, sendStatuses, sentLead } from '../inbound/inbound-fixture';
import { rawSql, stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

const mail = (from: string, subject: string, body: string, headers: Record<string, string> = {}) =>
  [
    `From: ${from}`,
    'To: ops@outreach.test',
    `Subject: ${subject}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@mail.example>`,
    'Date: Mon, 07 Dec 2026 10:00:00 +0000',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');

const leadStatus = async (id: string) => (await rawSql(svc)('select status, status_reason from leads where id = $1', [id]))[0];
const followUps = async (ids: string[]) =>
  (await rawSql(svc)('select lead_id::text from followups where lead_id = any($1::bigint[])', [ids])).map((r: any) => r.lead_id);

test("a colleague's reply stops every lead of the company; an out-of-office stops only its own lead", async () => {
  const ann = await sentLead(svc, 'ann@widgetco.example', '<s1.ann@out.test>', 'widgetco.example');
  const bob = await sentLead(svc, 'bob@widgetco.example', '<s1.bob@out.test>', 'widgetco.example');
  const eve = await sentLead(svc, 'eve@gearco.example', '<s1.eve@out.test>', 'gearco.example');
  const fay = await sentLead(svc, 'fay@gearco.example', '<s1.fay@out.test>', 'gearco.example');
  // each waits for its step 2 (the default sequence) and has one scheduled (sentLead's)
  expect((await followUps([ann, bob, eve, fay])).sort()).toEqual([ann, bob, eve, fay].sort());

  // the sender stops on auto-replies: Eve's out-of-office stops Eve, not Fay
  await rawSql(svc)(`update senders set stop_on_auto_reply = true where id = 'default'`);
  const ooo = await postRaw(svc, mail('eve@gearco.example', 'Out of Office: Hello', 'I am away until Monday.', {
    'Auto-Submitted': 'auto-replied', 'In-Reply-To': '<s1.eve@out.test>',
  }));
  expect(ooo.status).toBe(200);
  expect(ooo.body.kind).toBe('auto_reply');
  expect((await leadStatus(eve)).status).toBe('replied');
  expect((await leadStatus(fay)).status).toBe('sent');
  expect(await sendStatuses(svc, fay)).toEqual({ 1: 'sent', 2: 'scheduled' });

  // someone at widgetco who was never written to answers: Ann and Bob both stop
  const reply = await postRaw(svc, mail('boss@widgetco.example', 'Re: Hello', 'Thanks, we already have a supplier for that.'));
  expect(reply.status).toBe(200);
  expect(reply.body.matchedBy).toBe('company');
  const stopped = [ann, bob].filter((id) => id !== reply.body.leadId);
  expect(reply.body.event.stoppedLeads).toEqual(stopped);
  for (const id of [ann, bob]) {
    expect(await sendStatuses(svc, id)).toEqual({ 1: 'sent', 2: 'cancelled' });
  }
  expect(await leadStatus(stopped[0]!)).toEqual({ status: 'stopped', status_reason: 'company_replied: boss@widgetco.example' });
  expect(await followUps([ann, bob, eve])).toEqual([]);
  expect(await followUps([fay])).toEqual([fay]);
});

test('with stopForCompany off, a reply stops only the lead that replied', async () => {
  const put = await svc.api('PUT', '/v1/senders/default/sequence', {
    steps: [{ delayBusinessDays: 0 }, { delayBusinessDays: 3 }],
    stopForCompany: false,
  });
  expect(put.status).toBe(200);
  const gus = await sentLead(svc, 'gus@boltco.example', '<s1.gus@out.test>', 'boltco.example');
  const hal = await sentLead(svc, 'hal@boltco.example', '<s1.hal@out.test>', 'boltco.example');
  const reply = await postRaw(svc, mail('gus@boltco.example', 'Re: Hello', 'Not for us, thanks.', { 'In-Reply-To': '<s1.gus@out.test>' }));
  expect(reply.body.event).toMatchObject({ leadId: gus, status: 'replied', stoppedLeads: [] });
  expect((await leadStatus(hal)).status).toBe('sent');
  expect(await sendStatuses(svc, hal)).toEqual({ 1: 'sent', 2: 'scheduled' });
});
