import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { escapeHtml } from './footer';
import { unsubscribeSecret, verifyUnsubscribeToken } from './unsubscribe-token';

// Public pages (no API key): the link in every email's footer and the
// List-Unsubscribe target. GET only shows a confirm button (mail scanners
// follow links); POST unsubscribes, also as RFC 8058 one-click.

// any string: what is not a well-formed signed token is a forged link (404 page), never a 400
const tokenParam = z.object({ token: z.string() });
const html = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });

const showPage = createRoute({
  method: 'get',
  path: '/unsubscribe/{token}',
  tags: ['unsubscribe'],
  security: [],
  summary: 'The unsubscribe page with a confirm button',
  request: { params: tokenParam },
  responses: { 200: html('The page'), 404: html('Forged or unknown link') },
});

const unsubscribe = createRoute({
  method: 'post',
  path: '/unsubscribe/{token}',
  tags: ['unsubscribe'],
  security: [],
  summary: 'Unsubscribe (the confirm button, or RFC 8058 one-click with List-Unsubscribe=One-Click)',
  request: { params: tokenParam },
  responses: { 200: html('Unsubscribed'), 404: html('Forged or unknown link') },
});

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}
button{font-size:1rem;padding:.5rem 1.25rem}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

const NOT_FOUND = page('Link not valid', '<p>This unsubscribe link is not valid. Reply to the email with "stop" instead.</p>');

export function unsubscribeRoutes(deps: AppDeps) {
  const leadOf = async (token: string) => verifyUnsubscribeToken(await unsubscribeSecret(deps), token);
  return createRouter()
    .openapi(showPage, async (c) => {
      const token = c.req.valid('param').token;
      if (!(await leadOf(token))) return c.html(NOT_FOUND, 404);
      return c.html(
        page(
          'Unsubscribe',
          `<p>Stop all emails from us to this address?</p>
<form method="post" action="/unsubscribe/${escapeHtml(encodeURIComponent(token))}">
<input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
        ),
        200,
      );
    })
    .openapi(unsubscribe, async (c) => {
      const leadId = await leadOf(c.req.valid('param').token);
      if (!leadId) return c.html(NOT_FOUND, 404);
      await deps.db.call('unsubscribe_lead', { p_lead_id: leadId, p_now: deps.config.clock.now() });
      return c.html(page('You are unsubscribed', '<p>You will not receive any more emails from us.</p>'), 200);
    });
}
