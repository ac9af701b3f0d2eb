/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import fs from 'node:fs';
import type { Context } from 'hono';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { domainProblem } from '../app/domain-problems';
import { bigintIdSchema } from '../app/ids';
import { DatabaseError } from '../db/database';
import { retryAndPlaceSend } from '../sends/sends.routes';
import { loadStatusPage } from './status-data';
import { SignInPage, StatusPage } from './status-page';
import { STATUS_CSS, STATUS_JS } from './status-assets';
import { SessionKeys } from './session';

// The status page: GET / (sign-in form, or the panels for a signed-in browser)
// and its forms. HTML routes, not part of the JSON API (so not in /openapi.json);
// the buttons call the same SQL functions as POST /v1/sends/{id}/retry|discard.

const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const sendId = bigintIdSchema('send');

/** The charting library, served from the service's own node_modules (operators run on private networks). */
const UPLOT_JS = fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
const UPLOT_CSS = fs.readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');

const ACTION_ERRORS: Record<string, string> = {
  send_not_found: 'That send no longer exists.',
  send_not_retryable: 'That send is no longer dead or waiting for review: nothing was changed.',
  send_not_discardable: 'That send is no longer dead or waiting for review: nothing was changed.',
  address_suppressed: 'The address is suppressed: remove the suppression first if you are sure.',
  lead_replied: 'The lead replied: nothing more is sent to them.',
  lead_unsubscribed: 'The lead unsubscribed: nothing more is sent to them.',
  lead_complained: 'The lead complained: nothing more is sent to them.',
  no_quota_room: 'No day in the next year has quota room for this send.',
  csrf: 'The form was out of date or did not come from this page: nothing was changed. Try again.',
};

export function statusRoutes(deps: AppDeps) {
  const keys = new SessionKeys(deps.apiKey);
  const router = createRouter();

  const html = (c: Context, body: unknown, status: 200 | 401 | 403 = 200) => {
    c.header('content-security-policy', PAGE_CSP);
    c.header('x-content-type-options', 'nosniff');
    // same-origin, not no-referrer: with no-referrer the browser sends "Origin: null" on the forms' POSTs
    c.header('referrer-policy', 'same-origin');
    c.header('cache-control', 'no-store');
    return c.html(`<!doctype html>${String(body)}`, status);
  };
  const asset = (type: string, body: string) => (c: Context) => {
    c.header('content-type', type);
    c.header('cache-control', 'public, max-age=3600');
    c.header('x-content-type-options', 'nosniff');
    return c.body(body);
  };

  router.get('/status/assets/uplot.js', asset('text/javascript; charset=utf-8', UPLOT_JS));
  router.get('/status/assets/uplot.css', asset('text/css; charset=utf-8', UPLOT_CSS));
  router.get('/status/assets/status.js', asset('text/javascript; charset=utf-8', STATUS_JS));
  router.get('/status/assets/status.css', asset('text/css; charset=utf-8', STATUS_CSS));

  router.get('/', async (c) => {
    const session = keys.read(c);
    if (!session) return html(c, <SignInPage />);
    const data = await loadStatusPage(deps.db);
    return html(
      c,
      <StatusPage data={data} csrf={session.csrfToken} generatedAt={new Date()}
        notice={noticeFor(c.req.query('done'), c.req.query('send'))} error={ACTION_ERRORS[c.req.query('error') ?? '']} />,
    );
  });

  router.post('/status/sign-in', async (c) => {
    const form = await c.req.parseBody();
    const apiKey = typeof form.apiKey === 'string' ? form.apiKey : '';
    if (apiKey === '' || !keys.isApiKey(apiKey)) {
      deps.logger.warn({ requestId: c.get('requestId') }, 'status page: sign-in with a wrong API key');
      return html(c, <SignInPage error="That is not this service's API key." />, 401);
    }
    keys.start(c);
    return c.redirect('/', 303);
  });

  router.post('/status/sign-out', async (c) => {
    const session = keys.read(c);
    const form = await c.req.parseBody();
    if (session && keys.checkCsrf(c, session, form.csrf)) keys.end(c);
    return c.redirect('/', 303);
  });

  router.post('/status/sends/:id/:action{retry|discard}', async (c) => {
    const session = keys.read(c);
    if (!session) return html(c, <SignInPage error="Your session ended: sign in again." />, 401);
    const form = await c.req.parseBody();
    if (!keys.checkCsrf(c, session, form.csrf)) return c.redirect('/?error=csrf', 303);
    const id = sendId.safeParse(c.req.param('id'));
    if (!id.success) return c.redirect('/?error=send_not_found', 303);
    const action = c.req.param('action');
    try {
      if (action === 'retry') await retryAndPlaceSend(deps, id.data, new Date());
      else await deps.db.call('discard_send', { p_id: id.data, p_now: new Date() });
    } catch (err) {
      if (err instanceof DatabaseError && domainProblem(err)) {
        return c.redirect(`/?error=${encodeURIComponent(err.message)}`, 303);
      }
      throw err;
    }
    deps.logger.info({ requestId: c.get('requestId'), sendId: id.data, action }, 'status page: operator decision');
    return c.redirect(`/?done=${action}&send=${id.data}`, 303);
  });

  return router;
}

/** The page says what a button did; only known actions and a send id, so a crafted link cannot put its own words on it. */
function noticeFor(done: string | undefined, send: string | undefined): string | undefined {
  if (!send || !sendId.safeParse(send).success) return undefined;
  if (done === 'retry') return `Send #${send} is back in the queue.`;
  if (done === 'discard') return `Send #${send} was discarded: it will not be sent.`;
  return undefined;
}
