// Test support (not product): a corofy sender on a local SMTP server, and due sends for it.
import { rawSql, scheduleSends } from '../support/sends-fixture';
import type { TestService } from '../support/test-service';

export const DISPATCH_ENV = {
  COROFY_DISPATCH_INTERVAL_MS: '100',
  COROFY_SMTP_RATE_PER_SECOND: '200',
  COROFY_SMTP_TIMEOUT_MS: '3000',
  COROFY_PUBLIC_URL: 'https://corofy.example.test',
};

export async function useCorofyDelivery(svc: TestService, port: number, smtp: Record<string, unknown> = {}): Promise<void> {
  const r = await svc.api('PUT', '/v1/senders/default', {
    fromName: 'Ana Example',
    fromEmail: 'ana@acme.test',
    unsubscribeEmail: 'unsubscribe@acme.test',
    delivery: 'corofy',
    smtp: { host: '127.0.0.1', port, tls: 'none', user: 'ana@acme.test', password: 'mailbox-pw', ...smtp },
  });
  if (r.status !== 200) throw new Error(`PUT sender failed: ${JSON.stringify(r.body)}`);
}

/** Imports, claims and schedules one send per address for [sendAt, windowEnd); returns the sends. */
export async function dueSends(svc: TestService, emails: string[], sendAt: Date, windowEnd: Date): Promise<any[]> {
  const imp = await svc.api('POST', '/v1/leads/import', { leads: emails.map((email, i) => ({ email, firstName: `P${i}` })) });
  if (imp.status !== 200 || imp.body.imported !== emails.length) throw new Error(`import failed: ${JSON.stringify(imp.body)}`);
  const claim = await svc.api('POST', '/v1/batches/claim', { sender: 'default', size: emails.length });
  if (claim.status !== 200) throw new Error(`claim failed: ${JSON.stringify(claim.body)}`);
  return scheduleSends(svc, claim.body.leads.map((l: { id: string }) => l.id), sendAt, windowEnd);
}

export async function sendRows(svc: TestService): Promise<any[]> {
  return rawSql(svc)(
    `select s.id::text as id, s.to_email, s.status, s.attempts, s.message_id, s.smtp_response, s.last_error, l.status as lead_status
       from sends s join leads l on l.id = s.lead_id order by s.id`,
  );
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
