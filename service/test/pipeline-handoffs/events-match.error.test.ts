// Events matched by our Message-ID rather than by address: a bounce notice
// comes from the mail system (MAILER-DAEMON@…), an opt-out may be forwarded.
// The address we sent to is the one that bounced or opted out: it must be
// suppressed, or a human retry sends to it again.
import { runSweep } from '../../src/sweeper/sweeper';
import { composedLeads, gateAt } from '../gate/gate-fixture';
import { stopService } from '../support/sends-fixture';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

const MON_10 = new Date('2026-12-07T10:00:00Z');
const plus = (d: Date, minutes: number) => new Date(d.getTime() + minutes * 60_000);

test('a bounce matched by inReplyTo from MAILER-DAEMON suppresses the address we sent to', async () => {
  const [id] = await composedLeads(svc, [{ email: 'Ann@Bounce-By-Id.example', timezone: 'UTC' }]);
  const gated = await gateAt(svc, [id!], MON_10);
  const sendId = gated.sendNow[0].sendId;
  // the lease ran out: outcome unknown (needs_review), and its Message-ID is known from the mail log
  await runSweep(svc.deps, plus(MON_10, 30));
  await svc.deps.db.call('report_sends', {
    p_results: [{ sendId, status: 'sent', messageId: '<m-1@corofy.test>' }],
    p_now: plus(MON_10, 31),
  });

  const ev = await svc.deps.db.call<any>('record_event', {
    p_event: { kind: 'bounce', inReplyTo: '<m-1@corofy.test>', email: 'MAILER-DAEMON@mx.example', subject: 'Undelivered Mail' },
    p_now: plus(MON_10, 40),
  });
  expect(ev).toMatchObject({ leadId: id, status: 'bounced', suppressed: true });

  const list = await svc.api('GET', '/v1/suppressions?kind=email');
  expect(list.body.suppressions.map((s: any) => s.value)).toContain('ann@bounce-by-id.example');
});

test('a forwarded "stop" reply matched by inReplyTo suppresses the lead\'s address too', async () => {
  const [id] = await composedLeads(svc, [{ email: 'cleo@forward.example', timezone: 'UTC' }]);
  const gated = await gateAt(svc, [id!], plus(MON_10, 1));
  await svc.deps.db.call('report_sends', {
    p_results: [{ sendId: gated.sendNow[0].sendId, status: 'sent', messageId: 'm-2@corofy.test' }],
    p_now: plus(MON_10, 2),
  });
  const ev = await svc.deps.db.call<any>('record_event', {
    p_event: { kind: 'reply', inReplyTo: '<m-2@corofy.test>', email: 'assistant@forward.example', text: 'STOP emailing Cleo' },
    p_now: plus(MON_10, 3),
  });
  expect(ev).toMatchObject({ leadId: id, status: 'replied', suppressed: true });
  const values = (await svc.api('GET', '/v1/suppressions?kind=email')).body.suppressions.map((s: any) => s.value);
  expect(values).toEqual(expect.arrayContaining(['cleo@forward.example', 'assistant@forward.example']));
});
