import { createRoute, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemContent, problemResponses } from '../app/problems';
import { SenderIdSchema } from '../app/schemas';
import { TimeZoneSchema } from '../timezone/zone-name';
import { loadMailboxSettings, MailboxUpdateFields, MailboxViewFields, mailboxUpdate } from '../mailboxes/mailbox-settings';
import { verifyMailbox } from '../mailboxes/verify';
import { normalizeCountry } from '../timezone/countries';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return d >= '0001' && !Number.isNaN(t) && new Date(t).toISOString().startsWith(d);
  }, 'must be a real date');

const RampUpSchema = z
  .object({
    start: z.number().int().openapi({ description: 'Daily limit on the first day' }),
    step: z.number().int().openapi({ description: 'Added per sending day (a day of the sending window)' }),
    cap: z.number().int().openapi({ description: 'Where the ramp stops (the daily quota still applies if lower)' }),
    startedOn: z.string().openapi({ description: 'Sender-local day the ramp counts from', example: '2026-12-01' }),
  })
  .openapi('RampUp');

const RampUpUpdateSchema = z
  .object({
    start: z.number().int().min(0).max(100000),
    step: z.number().int().min(0).max(100000),
    cap: z.number().int().min(0).max(100000),
    startedOn: isoDate,
  })
  .partial()
  .strict()
  .openapi('RampUpUpdate', {
    description:
      'Turns ramp-up on (defaults: start 10, step 5, cap 40, counted from today) or changes it; null turns it off',
  });

const MailboxHealthSchema = z
  .object({
    status: z.enum(['ok', 'paused']),
    paused: z
      .object({ at: z.string(), code: z.string(), reason: z.string() })
      .nullable()
      .openapi({ description: 'Why and since when it is paused (hard_bounces, complaints, or an authentication code)' }),
    hardBounces: z.object({
      count: z.number().int().openapi({ description: 'Hard bounces among the last sends' }),
      ofLastSends: z.number().int(),
      window: z.number().int().openapi({ description: 'How many of the last sends are counted (200)' }),
      pauseAbove: z.number().int().openapi({ description: 'More hard bounces than this pause the mailbox (3 % of the window)' }),
    }),
    complaints: z.object({
      last24h: z.number().int(),
      pauseAt: z.number().int().openapi({ description: 'This many complaints within a day pause the mailbox' }),
    }),
    since: z.string().nullable().openapi({ description: 'Counted from here (the last resume), or null: from the start' }),
  })
  .openapi('MailboxHealth');

const SenderSchema = z
  .object({
    id: z.string(),
    dailyQuota: z.number().int(),
    timezone: z.string(),
    window: z.object({ days: z.array(z.enum(DAYS)), start: z.string(), end: z.string() }),
    skipHolidays: z.boolean(),
    stopOnAutoReply: z.boolean(),
    fromName: z.string().nullable(),
    fromEmail: z.string().nullable(),
    postalAddress: z.string().nullable(),
    privacyNoticeUrl: z.string().nullable(),
    blockedCountries: z.array(z.string()).openapi({ description: 'ISO 3166 alpha-2 codes; their leads are skipped at claim (country_blocked).' }),
    minGapSeconds: z.number().int(),
    jitterSeconds: z.number().int(),
    rampUp: RampUpSchema.nullable().openapi({ description: 'Ramp-up of a new mailbox, or null (no ramp: the daily quota every day)' }),
    limitToday: z.number().int().openapi({
      description: "Today's effective daily limit (sender-local day): the daily quota, lowered by ramp-up",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
    ...MailboxViewFields,
    health: MailboxHealthSchema,
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
    stopOnAutoReply: z.boolean().openapi({
      description: 'An auto-reply (out of office) from a lead stops it like a reply: its scheduled sends are cancelled. Default false.',
    }),
    fromName: z.string().trim().min(1).max(200).nullable(),
    fromEmail: z.email().nullable(),
    postalAddress: z.string().trim().min(1).max(500).nullable(),
    privacyNoticeUrl: z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
      .max(2048)
      .nullable()
      .openapi({ description: "A page saying where the recipient's data came from, why, and how to object (GDPR Art. 14); linked from every email's footer." }),
    blockedCountries: z
      .array(
        z.string().transform((v, ctx) => {
          const iso = normalizeCountry(v);
          if (!iso) {
            ctx.addIssue({ code: 'custom', message: `"${v}" is not an ISO 3166 country code or English country name` });
            return z.NEVER;
          }
          return iso;
        }),
      )
      .max(300)
      .openapi({ description: 'Countries this sender never emails (codes or English names; stored as alpha-2). [] clears.' }),
    minGapSeconds: z.number().int().min(0).max(86400),
    jitterSeconds: z.number().int().min(0).max(86400),
    rampUp: RampUpUpdateSchema.nullable(),
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
      const id = c.req.valid('param').id;
      const settings = await loadMailboxSettings(deps, id);
      // each server's outcome is kept for the sender's health (mailbox.outbound / mailbox.inbound)
      const checked = async (server: 'smtp' | 'imap', failure: { code: string; detail?: string } | null) => {
        await db.call('record_mailbox_verify', {
          p_sender: id,
          p_server: server,
          p_code: failure?.code ?? null,
          p_detail: failure?.detail ?? null,
        });
      };
      return c.json(await verifyMailbox(settings, config.dispatch.smtpTimeoutMs, checked), 200);
    })
    .openapi(resumeSender, async (c) => {
      const sender = await db.call<Sender>('resume_mailbox', { p_sender: c.req.valid('param').id });
      deps.dispatcher?.nudge();
      return c.json(sender, 200);
    });
}
