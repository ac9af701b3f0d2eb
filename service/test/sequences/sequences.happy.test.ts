// Follow-up sequences through the HTTP API, over simulated business days (the
// service's sandbox clock is moved; the machine's is not): step 1 to everyone,
// a reply stops the lead and its company, a bounce stops its lead, and only the
// others get step 2, as a reply in the thread of step 1, on the day it is due.
import { startComposeWorld, importLeads, promptData, type ComposeWorld } from '../compose/compose-fixture';

let world: ComposeWorld;
beforeAll(async () => {
  world = await startComposeWorld({ env: { COROFY_SANDBOX: 'true' } });
  await world.svc.api('PUT', '/v1/senders/default', { fromEmail: 'jane@seller.example' });
});
afterAll(() => world.stop());

const api = (method: string, path: string, body?: unknown) => world.svc.api(method, path, body);
const setClock = async (iso: string) => {
  const r = await api('PUT', '/v1/sandbox/clock', { now: iso });
  expect(r.status).toBe(200);
};

/** claim → compose → gate, as the daily workflow runs them; returns the gate's answer. */
async function dailyRun(size = 50) {
  const batch = await api('POST', '/v1/batches/claim', { size });
  expect(batch.status).toBe(200);
  const ids = batch.body.leads.map((l: any) => l.id);
  if (ids.length === 0) return { batch: batch.body, composed: { emails: [], failed: [] }, gate: { sendNow: [], scheduled: [], skipped: [] } };
  const composed = await api('POST', '/v1/compose', { leadIds: ids });
  expect(composed.status).toBe(200);
  const gate = await api('POST', '/v1/gate', { leadIds: ids });
  expect(gate.status).toBe(200);
  return { batch: batch.body, composed: composed.body, gate: gate.body };
}

async function reportSent(sends: any[]) {
  const r = await api('POST', '/v1/sends/report', {
    results: sends.map((s) => ({ sendId: s.sendId, status: 'sent', messageId: s.messageId })),
  });
  expect(r.status).toBe(200);
  expect(r.body.recorded).toBe(sends.length);
}

/** A header of the raw message, unfolded (a long References line is folded onto several lines). */
const header = (raw: string, name: string) =>
  new RegExp(`^${name}: (.*)$`, 'mi')
    .exec(Buffer.from(raw, 'base64url').toString('utf8').replace(/\r?\n[ \t]+/g, ' '))?.[1]
    ?.trim();

test('the default sequence is step 1 and follow-ups after 3 and 5 business days; PUT replaces it and rejects what cannot work', async () => {
  const d = await api('GET', '/v1/senders/default/sequence');
  expect(d.status).toBe(200);
  expect(d.body).toMatchObject({ sender: 'default', isDefault: true, stopForCompany: true });
  expect(d.body.steps.map((s: any) => [s.step, s.delayBusinessDays, s.mode])).toEqual([
    [1, 0, 'ai'],
    [2, 3, 'ai'],
    [3, 5, 'ai'],
  ]);

  for (const [body, field] of [
    [{ steps: [{ delayBusinessDays: 2 }] }, 'steps.0.delayBusinessDays'],
    [{ steps: [{ delayBusinessDays: 0 }, { delayBusinessDays: 0 }] }, 'steps.1.delayBusinessDays'],
    [{ steps: [{ delayBusinessDays: 0 }, { delayBusinessDays: 2, mode: 'template' }] }, 'steps.1.template'],
    [{ steps: [{ delayBusinessDays: 0 }, { delayBusinessDays: 2, mode: 'template', template: { text: 'Hi {{nickname}}' } }] }, 'steps.1.template.text'],
    [{ steps: [] }, 'steps'],
    [{ steps: Array.from({ length: 11 }, (_, i) => ({ delayBusinessDays: i === 0 ? 0 : 1 })) }, 'steps'],
  ] as const) {
    const r = await api('PUT', '/v1/senders/default/sequence', body);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body.code).toBe('validation_failed');
    expect(r.body.errors.map((e: any) => e.path)).toContain(field);
  }
  const missing = await api('GET', '/v1/senders/nobody/sequence');
  expect(missing.status).toBe(404);
  expect(missing.body.code).toBe('sender_not_found');

  const put = await api('PUT', '/v1/senders/default/sequence', {
    steps: [
      { delayBusinessDays: 0 },
      { delayBusinessDays: 2, mode: 'template', template: { text: 'Hi {{firstName}},\n\njust checking whether my note reached {{companyName}}.' } },
      { delayBusinessDays: 3, instruction: 'A break-up email.' },
    ],
  });
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({ isDefault: false, stopForCompany: true });
  expect(put.body.steps[1]).toMatchObject({ step: 2, delayBusinessDays: 2, mode: 'template' });
  expect((await api('GET', '/v1/senders/default/sequence')).body).toEqual(put.body);

  const spec = await api('GET', '/openapi.json');
  expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/v1/senders/{id}/sequence', '/v1/sandbox/clock']));
});

test('over business days: step 2 goes only to leads that did not stop, after its delay, threaded to step 1', async () => {
  // Monday 2026-12-07 10:00 UTC, inside the default Mon-Fri 09:00-17:00 window
  await setClock('2026-12-07T10:00:00Z');
  const [ann, bob, cat, dan] = await importLeads(world.svc, [
    { email: 'ann@acme.example', firstName: 'Ann', companyName: 'Acme', companyDomain: 'acme.example', timezone: 'UTC' },
    { email: 'bob@acme.example', firstName: 'Bob', companyName: 'Acme', companyDomain: 'acme.example', timezone: 'UTC' },
    { email: 'cat@bolt.example', firstName: 'Cat', companyName: 'Bolt', companyDomain: 'bolt.example', timezone: 'UTC' },
    { email: 'dan@crane.example', firstName: 'Dan', companyName: 'Crane', companyDomain: 'crane.example', timezone: 'UTC' },
  ]);

  // day 1: step 1 to everyone
  const day1 = await dailyRun();
  expect(day1.batch.leads.map((l: any) => [l.id, l.step])).toEqual([[ann, 1], [bob, 1], [cat, 1], [dan, 1]]);
  expect(day1.gate.sendNow.map((s: any) => s.step)).toEqual([1, 1, 1, 1]);
  await reportSent(day1.gate.sendNow);
  const step1 = Object.fromEntries(day1.gate.sendNow.map((s: any) => [s.leadId, s]));

  // day 2 (Tuesday): nothing is due yet; Ann replies (Bob works at her company), Dan's address bounces
  await setClock('2026-12-08T11:00:00Z');
  expect((await dailyRun()).batch.leads).toEqual([]);
  const reply = await api('POST', '/v1/events', { kind: 'reply', email: 'ann@acme.example', inReplyTo: step1[ann!].messageId, text: 'Not now, thanks.' });
  expect(reply.status).toBe(200);
  expect(reply.body).toMatchObject({ leadId: ann, status: 'replied', stoppedLeads: [bob] });
  const bounce = await api('POST', '/v1/events', { kind: 'bounce', email: 'dan@crane.example', messageId: step1[dan!].messageId });
  expect(bounce.body).toMatchObject({ leadId: dan, status: 'bounced' });
  expect((await api('GET', `/v1/leads/${bob}`)).body).toMatchObject({ status: 'stopped', statusReason: 'company_replied: ann@acme.example' });

  // day 3 (Wednesday): two business days after Monday, step 2 is due for Cat only
  await setClock('2026-12-09T09:30:00Z');
  const day3 = await dailyRun();
  expect(day3.batch.leads.map((l: any) => [l.id, l.step])).toEqual([[cat, 2]]);
  expect(day3.composed.emails).toHaveLength(1);
  expect(day3.composed.emails[0]).toMatchObject({ leadId: cat, source: 'template', subject: `Re: ${step1[cat!].subject}` });
  expect(day3.composed.emails[0].text).toMatch(/^Hi Cat,\n\njust checking whether my note reached Bolt\./);
  expect(day3.gate.sendNow).toHaveLength(1);
  const step2 = day3.gate.sendNow[0];
  expect(step2).toMatchObject({ leadId: cat, step: 2, subject: `Re: ${step1[cat!].subject}` });
  expect(header(step2.raw, 'In-Reply-To')).toBe(`<${step1[cat!].messageId}>`);
  expect(header(step2.raw, 'References')).toBe(`<${step1[cat!].messageId}>`);
  await reportSent([step2]);

  // the AI writes step 3 (three business days later: Monday) from what was sent, shorter
  await setClock('2026-12-11T10:00:00Z');
  expect((await dailyRun()).batch.leads).toEqual([]);
  await setClock('2026-12-14T10:00:00Z');
  const before = world.openai.state.requests.length;
  const day6 = await dailyRun();
  expect(day6.batch.leads.map((l: any) => [l.id, l.step])).toEqual([[cat, 3]]);
  expect(day6.composed.emails[0]).toMatchObject({ source: 'followup', subject: `Re: ${step1[cat!].subject}` });
  const prompt = world.openai.state.requests.slice(before).at(-1)!;
  const data = promptData(prompt.user);
  expect(data.followUp).toEqual({ step: 3, instruction: 'A break-up email.' });
  expect(data.sentBefore.map((e: any) => e.step)).toEqual([1, 2]);
  expect(data.sentBefore[1].text).toMatch(/just checking whether my note reached Bolt/);
  expect(data.sentBefore[0].text).not.toMatch(/unsubscribe/i);
  expect(prompt.system).toMatch(/follow-up in the same thread/);
  expect(header(day6.gate.sendNow[0].raw, 'In-Reply-To')).toBe(`<${step2.messageId}>`);
  expect(header(day6.gate.sendNow[0].raw, 'References')).toBe(`<${step1[cat!].messageId}> <${step2.messageId}>`);
  await reportSent(day6.gate.sendNow);

  // the sequence is over: nothing more for anyone
  await setClock('2026-12-28T10:00:00Z');
  expect((await dailyRun()).batch.leads).toEqual([]);

  // stats per step, per day, equal what happened
  const monday = await api('GET', '/v1/stats?day=2026-12-07');
  expect(monday.body.steps).toEqual([{ step: 1, sent: 4, replied: 0, bounced: 0, replyRate: 0 }]);
  const tuesday = await api('GET', '/v1/stats?day=2026-12-08');
  expect(tuesday.body.steps).toEqual([{ step: 1, sent: 0, replied: 1, bounced: 1, replyRate: null }]);
  const wednesday = await api('GET', '/v1/stats?day=2026-12-09');
  expect(wednesday.body.steps).toEqual([{ step: 2, sent: 1, replied: 0, bounced: 0, replyRate: 0 }]);
});
