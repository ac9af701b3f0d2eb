import { createHmac, randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

// The status page's session. The API key is typed once into the sign-in form and
// never stored in the browser: the cookie holds a token signed with a key derived
// from the API key, so any replica can check it without shared state, and changing
// COROFY_API_KEY signs every browser out. The cookie is HttpOnly (no script reads
// it) and SameSite=Strict (no other site's page sends it); every state-changing
// form also carries a CSRF token bound to the session.

export const SESSION_COOKIE = 'corofy_session';
const SESSION_SECONDS = 12 * 3600;

export interface Session {
  /** Random per sign-in; the CSRF token is derived from it. */
  id: string;
  expiresAt: number;
  csrfToken: string;
}

export class SessionKeys {
  private readonly key: Buffer;
  private readonly apiKeyHash: Buffer;

  constructor(apiKey: string) {
    this.key = createHmac('sha256', apiKey).update('corofy status page session v1').digest();
    this.apiKeyHash = sha256(apiKey);
  }

  /** Constant-time check of a typed API key. */
  isApiKey(candidate: string): boolean {
    return timingSafeEqual(sha256(candidate.trim()), this.apiKeyHash);
  }

  start(c: Context, now = Date.now()): Session {
    const id = randomBytes(18).toString('base64url');
    const expiresAt = Math.floor(now / 1000) + SESSION_SECONDS;
    const payload = `${id}.${expiresAt}`;
    setCookie(c, SESSION_COOKIE, `${payload}.${this.sign(`session:${payload}`)}`, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: isHttps(c),
      path: '/',
      maxAge: SESSION_SECONDS,
    });
    return { id, expiresAt, csrfToken: this.csrfFor(id) };
  }

  /** The session of this request, or undefined when there is none or it is forged or expired. */
  read(c: Context, now = Date.now()): Session | undefined {
    const value = getCookie(c, SESSION_COOKIE);
    const m = value ? /^([A-Za-z0-9_-]{24})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
    if (!m) return undefined;
    const [, id, exp, mac] = m as unknown as [string, string, string, string];
    if (!safeEqual(mac, this.sign(`session:${id}.${exp}`))) return undefined;
    if (Number(exp) * 1000 <= now) return undefined;
    return { id, expiresAt: Number(exp), csrfToken: this.csrfFor(id) };
  }

  end(c: Context): void {
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c), httpOnly: true, sameSite: 'Strict' });
  }

  /** The form's token must be this session's, and a browser that names its origin must name ours. */
  checkCsrf(c: Context, session: Session, formToken: unknown): boolean {
    if (typeof formToken !== 'string' || !safeEqual(formToken, session.csrfToken)) return false;
    const origin = c.req.header('origin');
    if (origin === undefined) return true;
    // behind a reverse proxy the browser's origin is the proxy's: compare hosts as the browser sent them
    const host = c.req.header('x-forwarded-host') ?? c.req.header('host');
    try {
      return new URL(origin).host === host;
    } catch {
      return false; // "null" (a sandboxed frame, a redirect from elsewhere) is no origin of ours
    }
  }

  private csrfFor(sessionId: string): string {
    return this.sign(`csrf:${sessionId}`);
  }

  private sign(value: string): string {
    return createHmac('sha256', this.key).update(value).digest('base64url');
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}
