-- A Send's localTime carries the recipient's UTC offset ("2026-03-09T10:30:00-04:00"),
-- the same shape the gate returns, so claim-due, lists and the gate agree.
create or replace function send_json(s sends) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'sendId', s.id::text,
    'leadId', s.lead_id::text,
    'step', s.step,
    'sender', s.sender_id,
    'day', to_char(s.day, 'YYYY-MM-DD'),
    'to', s.to_email,
    'subject', s.subject,
    'text', s.text,
    'html', s.html,
    'timezone', s.timezone,
    'timezoneSource', s.timezone_source,
    'localTime', to_char(s.send_at at time zone s.timezone, 'YYYY-MM-DD"T"HH24:MI:SS')
                 || case when o.off < 0 then '-' else '+' end
                 || lpad((abs(o.off) / 3600)::text, 2, '0') || ':' || lpad((abs(o.off) % 3600 / 60)::text, 2, '0'),
    'sendAt', s.send_at,
    'windowEnd', s.window_end,
    'status', s.status,
    'attempts', s.attempts,
    'leaseExpiresAt', s.lease_expires_at,
    'lastError', s.last_error,
    'messageId', s.message_id,
    'sentAt', s.sent_at)
  from (select extract(epoch from (s.send_at at time zone s.timezone) - (s.send_at at time zone 'UTC'))::integer as off) o;
$$;
