// Invariant 4, property-tested: whatever the order of suppressions (address or
// whole domain), bounces, complaints, unsubscribes, claims, scheduling,
// compose, the gate, claim-due and sweeps, no suppressed address is ever handed
// out — neither in a batch nor as a send to deliver.
import fc from 'fast-check';
import { rawSql, stopService } from '../support/database';
import { gateIntoWindow } from '../support/leads';
import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(() => stopService(svc));

type Cmd =
  | { t: 'suppressEmail' | 'event'; who: number; kind: 'bounce' | 'complaint' | 'unsubscribe' }
  | { t: 'suppressDomain'; who: number }
  | { t: 'suppressBySql'; who: number }
  | { t: 'claim'; size: number }
  | { t: 'schedule' }
  | { t: 'claimDue' }
  | { t: 'sweep' };

const who = fc.integer({ min: 0, max: 3 });
const kind = fc.constantFrom('bounce' as const, 'complaint' as const, 'unsubscribe' as const);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ t: fc.constant('suppressEmail' as const), who, kind }),
  fc.record({ t: fc.constant('event' as const), who, kind }),
  fc.record({ t: fc.constant('suppressDomain' as const), who }),
  fc.record({ t: fc.constant('suppressBySql' as const), who }),
  fc.record({ t: fc.constant('claim' as const), size: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ t: fc.constant('schedule' as const) }),
  fc.record({ t: fc.constant('claimDue' as const) }),
  fc.record({ t: fc.constant('sweep' as const) }),
);

let run = 0;
const handedOut = { leads: 0, sends: 0, refusedAtCompose: 0, refusedAtGate: 0, blockedAtClaimDue: 0 };

test('a suppressed address is never handed out, whatever the order of events', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(cmd, { minLength: 4, maxLength: 30 }), async (cmds) => {
      run += 1;
      const sender = `s${run}`;
      await svc.api('PUT', `/v1/senders/${sender}`, { dailyQuota: 100 });
      const emails = [`a${run}@d${run}a.test`, `b${run}@d${run}a.test`, `c${run}@d${run}b.test`, `d${run}@d${run}b.test`];
      await svc.api('POST', '/v1/leads/import', { leads: emails.map((email) => ({ email })) });
      const q = rawSql(svc);
      const suppressed = async (email: string) =>
        (await q('select exists (select from send_blocked($1)) as s', [email]))[0].s as boolean;

      for (const c of cmds) {
        switch (c.t) {
          case 'suppressEmail':
            await svc.api('POST', '/v1/suppressions', { email: emails[c.who], reason: c.kind });
            break;
          case 'suppressDomain':
            await svc.api('POST', '/v1/suppressions', { domain: emails[c.who]!.split('@')[1], reason: 'manual' });
            break;
          case 'suppressBySql':
            // a suppression list loaded straight into the table (an operator's SQL import)
            // cancels no pending send: claim-due must still hold the line
            await q("insert into suppressions (value, kind, reason) values ($1, 'email', 'imported') on conflict do nothing", [emails[c.who]]);
            break;
          case 'event':
            await svc.api('POST', '/v1/events', { kind: c.kind, email: emails[c.who] });
            break;
          case 'claim': {
            const r = await svc.api('POST', '/v1/batches/claim', { sender, size: c.size });
            expect(r.status).toBe(200);
            for (const l of r.body.leads) {
              expect(await suppressed(l.email)).toBe(false);
              handedOut.leads += 1;
            }
            break;
          }
          case 'schedule': {
            // compose the claimed leads (a suppressed one is refused and skipped, as the compose
            // step does), then gate them into a window open now: the gate refuses the suppressed
            const claimed = await q(
              "select l.id::text as id from leads l join batches b on b.id = l.batch_id where b.sender_id = $1 and l.status = 'claimed'",
              [sender],
            );
            const composed: string[] = [];
            for (const { id } of claimed) {
              const draft = { subject: 's', text: 't', html: '<p>t</p>', source: 'generic' };
              const saved = await svc.deps.db.call<{ ok: boolean; code?: string }>('save_draft', { p_lead_id: id, p_draft: draft, p_regenerate: false });
              if (saved.ok) composed.push(id);
              else {
                expect(saved.code).toBe('lead_suppressed');
                handedOut.refusedAtCompose += 1;
                await svc.deps.db.call('skip_suppressed_lead', { p_lead_id: id });
              }
            }
            const now = Date.now();
            const gated = await gateIntoWindow(svc, composed, new Date(now - 60_000), new Date(now + 3_600_000));
            for (const s of gated.skipped) {
              expect(s.code).toBe('suppressed');
              handedOut.refusedAtGate += 1;
            }
            for (const s of gated.scheduled) expect(await suppressed(s.to)).toBe(false);
            break;
          }
          case 'claimDue': {
            const pending = await q(
              "select to_email from sends where sender_id = $1 and status in ('scheduled', 'failed') and exists (select from send_blocked(to_email))",
              [sender],
            );
            handedOut.blockedAtClaimDue += pending.length;
            const r = await svc.api('POST', '/v1/sends/claim-due', { sender, limit: 50 });
            expect(r.status).toBe(200);
            for (const s of r.body.sends) {
              expect(await suppressed(s.to)).toBe(false);
              handedOut.sends += 1;
            }
            break;
          }
          case 'sweep':
            await svc.deps.db.call('sweep', { p_now: new Date() });
            break;
        }
      }
    }),
    {
      numRuns: 40,
      // each guard is exercised on every run, not only when the random sequences
      // happen to suppress a lead at that moment: compose (suppressed once claimed)
      // and claim-due (suppressed once scheduled, by a write that cancelled nothing)
      examples: [
        [[{ t: 'claim', size: 4 }, { t: 'suppressEmail', who: 0, kind: 'bounce' }, { t: 'schedule' }, { t: 'claimDue' }]],
        [[{ t: 'claim', size: 4 }, { t: 'schedule' }, { t: 'suppressBySql', who: 2 }, { t: 'claimDue' }]],
      ],
    },
  );
  // the property exercised both hand-outs and the claim-due guard
  expect(handedOut.leads).toBeGreaterThan(0);
  expect(handedOut.sends).toBeGreaterThan(0);
  expect(handedOut.refusedAtCompose).toBeGreaterThan(0);
  expect(handedOut.blockedAtClaimDue).toBeGreaterThan(0);
}, 600_000);
