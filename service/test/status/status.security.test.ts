// The status page's sign-in, session cookie and CSRF protection, over real HTTP.
import { importLeads, rawSql, scheduleSends, stopService } from '../support/sends-fixture';
import { startTestService, TEST_API_KEY, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  // one attempt: a transient failure is a dead letter at once (no bounce, no suppression)
  svc = await startTestService({ COROFY_SEND_MAX_ATTEMPTS: '1' });
});
afterAll(() => stopService(svc));

async function signIn(key = TEST_API_KEY): Promise<Response> {
  return fetch(`${svc.url}/status/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ apiKey: key }),
    redirect: 'manual',
  });
}

async function sessionCookie(): Promise<string> {
  const res = await signIn();
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

async function page(cookie?: string): Promise<string> {
  return (await fetch(`${svc.url}/`, { headers: cookie ? { cookie } : {} })).text();
}

/** A dead send, made through the API: lead imported, claimed, scheduled, reported failed for good. */
async function deadSend(prefix: string): Promise<string> {
  const [leadId] = await importLeads(svc, 1, prefix);
  await svc.api('POST', '/v1/batches/claim', { size: 1 });
  const now = Date.now();
  const [send] = await scheduleSends(svc, [leadId!], new Date(now - 60_000), new Date(now + 3_600_000));
  await svc.api('POST', '/v1/sends/claim-due', {});
  const r = await svc.api('POST', '/v1/sends/report', {
    results: [{ sendId: send.sendId, status: 'failed', error: '421 4.7.0 try again later' }],
  });
  expect(r.body.deadLettered).toBe(1);
  return send.sendId;
}

test('without a session the page is only a sign-in form: no numbers, no send, no key', async () => {
  await deadSend('anon');
  const html = await page();
  expect(html).toContain('action="/status/sign-in"');
  expect(html).not.toMatch(/Dead letters|anon0@example\.com/);
  expect(html).not.toContain(TEST_API_KEY);
});

test('a wrong key is refused with 401 and no cookie; the right one sets an HttpOnly SameSite=Strict cookie that is not the key', async () => {
  const bad = await signIn('not-the-key-0123456789');
  expect(bad.status).toBe(401);
  expect(bad.headers.get('set-cookie')).toBeNull();
  expect(await bad.text()).toContain('That is not this service&#39;s API key.');

  const good = await signIn();
  expect(good.status).toBe(303);
  expect(good.headers.get('location')).toBe('/');
  const cookie = good.headers.get('set-cookie')!;
  expect(cookie).toMatch(/^corofy_session=/);
  expect(cookie).toMatch(/HttpOnly/i);
  expect(cookie).toMatch(/SameSite=Strict/i);
  expect(cookie).not.toContain(TEST_API_KEY);
  expect(cookie).not.toContain(encodeURIComponent(TEST_API_KEY));
  const html = await page(cookie.split(';')[0]);
  expect(html).toContain('Mailboxes today');
  expect(html).not.toContain(TEST_API_KEY);
});

test('a forged or tampered session cookie is no session', async () => {
  const cookie = await sessionCookie();
  const [name, value] = cookie.split('=') as [string, string];
  const [id, exp, mac] = value.split('.') as [string, string, string];
  const later = `${name}=${id}.${Number(exp) + 86400}.${mac}`;
  const forged = `${name}=${id}.${exp}.${'A'.repeat(43)}`;
  for (const c of [later, forged, `${name}=${TEST_API_KEY}`]) expect(await page(c)).toContain('action="/status/sign-in"');
});

test('Retry and Discard need the session and its CSRF token: without either nothing changes', async () => {
  const sendId = await deadSend('csrf');
  const cookie = await sessionCookie();
  const html = await page(cookie);
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const post = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${svc.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body),
      redirect: 'manual',
    });
  const status = async () => (await rawSql(svc)('select status from sends where id = $1', [sendId]))[0].status;

  expect((await post(`/status/sends/${sendId}/retry`, { csrf })).status).toBe(401); // no cookie
  expect((await post(`/status/sends/${sendId}/retry`, { csrf: 'x'.repeat(43) }, { cookie })).headers.get('location')).toBe('/?error=csrf');
  expect((await post(`/status/sends/${sendId}/retry`, {}, { cookie })).headers.get('location')).toBe('/?error=csrf');
  const otherSite = await post(`/status/sends/${sendId}/discard`, { csrf }, { cookie, origin: 'https://evil.example' });
  expect(otherSite.headers.get('location')).toBe('/?error=csrf');
  // a token from another session does not fit this one
  const otherCsrf = /name="csrf" value="([^"]+)"/.exec(await page(await sessionCookie()))![1]!;
  expect((await post(`/status/sends/${sendId}/retry`, { csrf: otherCsrf }, { cookie })).headers.get('location')).toBe('/?error=csrf');
  expect(await status()).toBe('dead');

  const ok = await post(`/status/sends/${sendId}/retry`, { csrf }, { cookie, origin: svc.url });
  expect(ok.headers.get('location')).toBe(`/?done=retry&send=${sendId}`);
  expect(await status()).toBe('scheduled');
  const after = await (await fetch(`${svc.url}/?done=retry&send=${sendId}`, { headers: { cookie } })).text();
  expect(after).toContain(`Send #${sendId} is back in the queue.`);
  expect(after).not.toContain(`data-send="${sendId}"`);
});

test('the page forbids inline script and framing, and a crafted notice link cannot put words on it', async () => {
  const res = await fetch(`${svc.url}/?done=retry&send=<script>alert(1)</script>`, { headers: { cookie: await sessionCookie() } });
  const csp = res.headers.get('content-security-policy')!;
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  const html = await res.text();
  expect(html).not.toContain('<script>alert(1)</script>');
  expect(html).not.toContain('is back in the queue');
});
