import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/env';
import type { Database } from '../db/database';

// Unsubscribe links carry `<leadId>.<HMAC-SHA256(secret, leadId), base64url>`:
// anyone holding the link may unsubscribe that one lead, nobody can forge another.

const SETTING = 'unsubscribe_secret';
const secrets = new WeakMap<Database, Promise<string>>();

/** The signing secret: COROFY_UNSUBSCRIBE_SECRET, else one generated once and shared through the database. */
export function unsubscribeSecret(deps: { config: Config; db: Database }): Promise<string> {
  if (deps.config.unsubscribeSecret) return Promise.resolve(deps.config.unsubscribeSecret);
  let secret = secrets.get(deps.db);
  if (!secret) {
    secret = deps.db.call<string>('ensure_setting', { p_name: SETTING, p_value: randomBytes(32).toString('base64url') });
    secrets.set(deps.db, secret);
    secret.catch(() => secrets.delete(deps.db));
  }
  return secret;
}

function sign(secret: string, leadId: string): string {
  return createHmac('sha256', secret).update(`unsubscribe:${leadId}`).digest('base64url');
}

export function unsubscribeToken(secret: string, leadId: string): string {
  return `${leadId}.${sign(secret, leadId)}`;
}

/** The lead id a token was signed for, or undefined for anything forged or malformed. */
export function verifyUnsubscribeToken(secret: string, token: string): string | undefined {
  const m = /^([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return undefined;
  const expected = Buffer.from(sign(secret, m[1]!));
  const given = Buffer.from(m[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given) ? m[1] : undefined;
}
