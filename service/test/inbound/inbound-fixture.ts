// Test support: leads we wrote to (step 1 sent with a known Message-ID, step 2 scheduled).
import { rawSql, scheduleSends } from '../support/sends-fixture';
import type { TestService } from '../support/test-service';

const MIN = 60_000;

export async function postRaw(svc: TestService, raw: string | Buffer, query = '', contentType = 'message/rfc822') {
  const res = await fetch(`${svc.url}/v1/inbound${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.apiKey}`, 'content-type': contentType },
    body: typeof raw === 'string' ? raw : new Uint8Array(raw),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Imports a lead, sends its step 1 as `messageId` and schedules its step 2 three days out. */
export async function sentLead(svc: TestService, email: string, messageId: string, companyDomain?: string): Promise<string> {
  const imported = await svc.api('POST', '/v1/leads/import', { leads: [{ email, firstName: 'X', companyDomain }] });
  if (imported.body.imported !== 1) throw new Error(`import failed: ${JSON.stringify(imported.body)}`);
  const [{ id }] = await rawSql(svc)('select id::text as id from leads where lower(email) = lower($1)', [email]);
  await svc.api('POST', '/v1/batches/claim', { size: 1 });
  const now = Date.now();
  const [step1] = await scheduleSends(svc, [id], new Date(now - MIN), new Date(now + 600 * MIN));
  await svc.api('POST', '/v1/sends/claim-due', {});
  const rep = await svc.api('POST', '/v1/sends/report', { results: [{ sendId: step1.sendId, status: 'sent', messageId }] });
  if (rep.body.recorded !== 1) throw new Error(`report failed: ${JSON.stringify(rep.body)}`);
  const followUpAt = new Date(now + 3 * 86_400_000).toISOString();
  const q = rawSql(svc);
  await q(`select ledger_adjust('default', (($1::timestamptz) at time zone 'UTC')::date, 0, 1, 0)`, [followUpAt]);
  await q(
    `insert into sends (lead_id, step, sender_id, day, status, to_email, subject, text, html, timezone,
                        timezone_source, send_at, window_end)
     select id, 2, 'default', (($2::timestamptz) at time zone 'UTC')::date, 'scheduled', email, 'Following up',
            'Hi again', '<p>Hi again</p>', 'UTC', 'test', $2, $2::timestamptz + interval '8 hours'
       from leads where id = $1`,
    [id, followUpAt],
  );
  return id;
}

export async function sendStatuses(svc: TestService, leadId: string): Promise<Record<number, string>> {
  const rows = await rawSql(svc)('select step, status from sends where lead_id = $1 order by step', [leadId]);
  return Object.fromEntries(rows.map((r) => [r.step, r.status]));
}
