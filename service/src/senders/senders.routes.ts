import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemContent, problemResponses } from '../app/problems';
import { SenderIdSchema } from '../app/schemas';
import { TimeZoneSchema } from '../timezone/zone-name';
import { loadMailboxSettings, MailboxUpdateFields, MailboxViewFields, mailboxUpdate } from '../mailboxes/mailbox-settings';
import { verifyMailbox } from '../mailboxes/verify';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');

const SenderSchema = z
  .object({
    id: z.string(),
    dailyQuota: z.number().int(),
    timezone: z.string(),
    window: z.object({ days: z.array(z.enum(DAYS)), start: z.string(), end: z.string() }),
    skipHolidays: z.boolean(),
    fromName: z.string().nullable(),
    fromEmail: z.string().nullable(),
    postalAddress: z.string().nullable(),
    minGapSeconds: z.number().int(),
    jitterSeconds: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    ...MailboxViewFields,
  })
  .openapi('Sender');

const SenderUpdateSchema = z
  .object({
    dailyQuota: z.number().int().min(0).max(100000),
    timezone: TimeZoneSchema,
    window: z
      .object({
        days: z.array(z.enum(DAYS)).min(1).refine((d) => new Set(d).size === d.length, 'days must not repeat'),
        start: clock,
        end: clock,
      })
      .refine((w) => w.start < w.end, { message: 'start must be before end', path: ['end'] }),
    skipHolidays: z.boolean(),
    fromName: z.string().trim().min(1).max(200).nullable(),
    fromEmail: z.email().nullable(),
    postalAddress: z.string().trim().min(1).max(500).nullable(),
    minGapSeconds: z.number().int().min(0).max(86400),
    jitterSeconds: z.number().int().min(0).max(86400),
    ...MailboxUpdateFields,
  })
  .partial()
  .strict()
  .openapi('SenderUpdate');

const idParam = z.object({ id: SenderIdSchema });

const listSenders = createRoute({
  method: 'get',
  path: '/v1/senders',
  tags: ['senders'],
  summary: 'All senders',
  responses: {
    200: {
      description: 'Senders',
      content: { 'application/json': { schema: z.object({ senders: z.array(SenderSchema) }) } },
    },
    ...problemResponses,
  },
});

const getSender = createRoute({
  method: 'get',
  path: '/v1/senders/{id}',
  tags: ['senders'],
  summary: 'One sender',
  request: { params: idParam },
  responses: {
    200: { description: 'The sender', content: { 'application/json': { schema: SenderSchema } } },
    ...problemResponses,
    404: problemContent('No such sender'),
  },
});

const putSender = createRoute({
  method: 'put',
  path: '/v1/senders/{id}',
  tags: ['senders'],
  summary: 'Create or update a sender (absent fields keep their value)',
  request: {
    params: idParam,
    body: { required: true, content: { 'application/json': { schema: SenderUpdateSchema } } },
  },
  responses: {
    200: { description: 'The sender as stored', content: { 'application/json': { schema: SenderSchema } } },
    ...problemResponses,
    422: problemContent('Delivery "corofy" without SMTP settings or fromEmail (mailbox_incomplete)'),
  },
});

const ServerCheck = z
  .object({ ok: z.literal(true), host: z.string(), port: z.number().int(), tls: z.string(), auth: z.string() })
  .nullable();

const verifySender = createRoute({
  method: 'post',
  path: '/v1/senders/{id}/verify',
  tags: ['senders'],
  summary: "Connect to the sender's mailbox (SMTP, IMAP) and log in; nothing is sent",
  request: { params: idParam },
  responses: {
    200: {
      description: 'Every configured server accepted the connection, the login (and for SMTP the envelope)',
      content: { 'application/json': { schema: z.object({ smtp: ServerCheck, imap: ServerCheck }).openapi('MailboxCheck') } },
    },
    ...problemResponses,
    404: problemContent('No such sender'),
    422: problemContent(
      'What is wrong: smtp_dns_failed, smtp_tls_failed, smtp_auth_failed, smtp_sender_refused, smtp_relay_refused, ' +
        'oauth2_revoked, mailbox_incomplete (and imap_… alike)',
    ),
    502: problemContent('The server could not be reached: smtp_connect_failed, imap_connect_failed, oauth2_unavailable'),
  },
});

const resumeSender = createRoute({
  method: 'post',
  path: '/v1/senders/{id}/resume',
  tags: ['senders'],
  summary: "Resume a paused mailbox's sending (a person looked at why it was paused)",
  request: { params: idParam },
  responses: {
    200: { description: 'The sender, not paused', content: { 'application/json': { schema: SenderSchema } } },
    ...problemResponses,
    404: problemContent('No such sender'),
  },
});

type Sender = z.infer<typeof SenderSchema>;

export function sendersRoutes(deps: AppDeps) {
  const { db, secretBox, config } = deps;
  return createRouter()
    .openapi(listSenders, async (c) => c.json({ senders: await db.call<Sender[]>('list_sender_views') }, 200))
    .openapi(getSender, async (c) => c.json(await db.call<Sender>('sender_view', { p_id: c.req.valid('param').id }), 200))
    .openapi(putSender, async (c) => {
      const id = c.req.valid('param').id;
      const { delivery, unsubscribeEmail, smtp, imap, ...settings } = c.req.valid('json');
      const sender = await db.call<Sender>('put_sender', {
        p_id: id,
        p_sender: settings,
        p_mailbox: mailboxUpdate(secretBox, id, { delivery, unsubscribeEmail, smtp, imap }),
      });
      return c.json(sender, 200);
    })
    .openapi(verifySender, async (c) => {
      const settings = await loadMailboxSettings(deps, c.req.valid('param').id);
      return c.json(await verifyMailbox(settings, config.dispatch.smtpTimeoutMs), 200);
    })
    .openapi(resumeSender, async (c) => {
      const sender = await db.call<Sender>('resume_mailbox', { p_sender: c.req.valid('param').id });
      deps.dispatcher?.nudge();
      return c.json(sender, 200);
    });
}
