import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problem, problemContent, problemResponses } from '../app/problems';
import { looksLikeMessage, recordInboundMessage } from './inbound';
import { InboundResult } from './inbound-schema';

const postInbound = createRoute({
  method: 'post',
  path: '/v1/inbound', // app.ts gives this path its own body limit (INBOUND_PATH)
  tags: ['inbound'],
  summary: 'Classify and record one raw inbound message (reply, auto-reply, bounce, complaint, unsubscribe)',
  request: {
    query: z.object({
      sender: z.string().min(1).max(63).optional().openapi({ description: 'The sender whose mailbox received it' }),
    }),
    body: {
      required: true,
      content: { 'message/rfc822': { schema: z.string().openapi({ format: 'binary', description: 'The raw message (≤ 10 MiB)' }) } },
    },
  },
  responses: {
    200: { description: 'What the message is and what it changed', content: { 'application/json': { schema: InboundResult } } },
    415: problemContent('The body is not sent as message/rfc822'),
    ...problemResponses,
  },
});

const RAW_TYPES = /^(message\/rfc822|application\/octet-stream|text\/plain)\b/i;

export function inboundRoutes(deps: AppDeps) {
  return createRouter().openapi(postInbound, async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!RAW_TYPES.test(type)) {
      throw problem(415, 'unsupported_media_type', 'Send the raw message as the body with "Content-Type: message/rfc822".');
    }
    const raw = Buffer.from(await c.req.arrayBuffer());
    if (raw.length === 0 || !looksLikeMessage(raw)) {
      throw problem(400, 'not_a_message', 'The body is not an RFC 5322 message: it has no header block (From, Message-ID, Subject, …).');
    }
    const { sender } = c.req.valid('query');
    const { classified: _classified, ...result } = await recordInboundMessage(deps, raw, sender ?? null);
    return c.json(result, 200);
  });
}
