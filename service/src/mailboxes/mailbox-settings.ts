import { z } from '@hono/zod-openapi';
import type { Database } from '../db/database';
import type { SecretBox } from '../secrets/secret-box';

// A sender's mailbox: how its email leaves (delivery) and its own SMTP and IMAP
// settings. Secrets are write-only: accepted here, sealed before they reach the
// database, and never part of an answer (only whether each is set).

export const TLS_MODES = ['implicit', 'starttls', 'none'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

const host = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.-]+$|^\[?[0-9A-Fa-f:.]+\]?$/, 'must be a host name or an IP address');

const OAuth2Input = z
  .object({
    clientId: z.string().min(1).max(1000),
    clientSecret: z.string().min(1).max(4000).optional().openapi({ description: 'Write-only.' }),
    refreshToken: z.string().min(1).max(8000).optional().openapi({ description: 'Write-only.' }),
    tokenUrl: z.url({ protocol: /^https?$/ }).openapi({
      example: 'https://oauth2.googleapis.com/token',
      description: 'Google: https://oauth2.googleapis.com/token; Microsoft 365: https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token',
    }),
    scope: z.string().trim().min(1).max(2000).nullable().optional().openapi({
      example: 'https://outlook.office.com/SMTP.Send offline_access',
      description:
        'Sent with every token refresh. Microsoft 365: "https://outlook.office.com/SMTP.Send offline_access" for smtp, ' +
        '"https://outlook.office.com/IMAP.AccessAsUser.All offline_access" for imap. Google: leave it out.',
    }),
  })
  .strict();

export const MailboxServerInput = z
  .object({
    host,
    port: z.number().int().min(1).max(65535),
    tls: z.enum(TLS_MODES).openapi({ description: 'implicit (465/993), starttls (587/143) or none (local relays only)' }),
    user: z.string().min(1).max(320),
    password: z.string().min(1).max(1000).optional().openapi({ description: 'Write-only. Kept when absent.' }),
    oauth2: OAuth2Input.optional(),
  })
  .strict()
  .refine((s) => !(s.password !== undefined && s.oauth2 !== undefined), {
    message: 'give either password or oauth2, not both',
    path: ['oauth2'],
  });
export type MailboxServerInput = z.infer<typeof MailboxServerInput>;

export const MailboxUpdateFields = {
  delivery: z.enum(['n8n', 'corofy']).openapi({
    description: '"corofy": the service sends through the mailbox below; "n8n": n8n\'s email nodes send.',
  }),
  unsubscribeEmail: z.email().nullable().openapi({ description: 'Adds a mailto: to List-Unsubscribe.' }),
  smtp: MailboxServerInput.nullable(),
  imap: MailboxServerInput.nullable(),
};

const MailboxServerView = z.object({
  host: z.string(),
  port: z.number().int(),
  tls: z.enum(TLS_MODES),
  user: z.string(),
  auth: z.enum(['password', 'oauth2']),
  passwordSet: z.boolean(),
  oauth2: z
    .object({ clientId: z.string(), tokenUrl: z.string(), scope: z.string().nullable(), clientSecretSet: z.boolean(), refreshTokenSet: z.boolean() })
    .nullable(),
});

const LastVerify = z
  .object({
    at: z.string(),
    ok: z.boolean(),
    code: z.string().nullable().openapi({ description: 'The problem code of a failed check (e.g. smtp_auth_failed), null when it passed' }),
    detail: z.string().nullable(),
  })
  .nullable()
  .openapi({ description: 'The last POST /v1/senders/:id/verify of this server, null before the first' });

const InboundHealth = z
  .object({
    watched: z.boolean().openapi({ description: 'A service replica holds the mailbox and reads it' }),
    connected: z.boolean().openapi({ description: 'The watcher is logged in to the IMAP server now' }),
    lastMessageAt: z.string().nullable().openapi({ description: 'When the watcher last read a message' }),
    lastError: z.string().nullable(),
    lastErrorAt: z.string().nullable(),
    lastVerify: LastVerify,
    folders: z.array(z.object({ folder: z.string(), uidValidity: z.string(), lastUid: z.number().int() })),
  })
  .openapi('MailboxInboundHealth');

const OutboundHealth = z
  .object({
    driven: z.boolean().openapi({ description: "A service replica holds the mailbox and sends its due emails (delivery 'corofy', not paused)" }),
    paused: z.boolean().openapi({ description: 'Sending stopped until a person resumes it (why: the sender\'s `paused`)' }),
    lastVerify: LastVerify,
    lastError: z.string().nullable().openapi({ description: 'What the SMTP server (or the connection) said in the last transaction that did not end in 250' }),
    lastErrorAt: z.string().nullable(),
    lastErrorKind: z.enum(['retry', 'bounce', 'rejected', 'needs_review']).nullable(),
    lastErrorSendId: z.string().nullable(),
  })
  .openapi('MailboxOutboundHealth');

export const MailboxViewFields = {
  delivery: z.enum(['n8n', 'corofy']),
  unsubscribeEmail: z.string().nullable(),
  smtp: MailboxServerView.nullable(),
  imap: MailboxServerView.nullable(),
  paused: z.object({ at: z.string(), code: z.string(), reason: z.string() }).nullable(),
  mailbox: z
    .object({ inbound: InboundHealth.nullable(), outbound: OutboundHealth.nullable() })
    .openapi({ description: "The mailbox's health: the IMAP watcher (null without imap settings) and the sending side (null without smtp settings)" }),
};

type Half = 'smtp' | 'imap';
const SECRET_PLACES = (half: Half) => [`${half}.password`, `${half}.oauth2.clientSecret`, `${half}.oauth2.refreshToken`];

/** Where a sealed secret belongs: its sender and field (the AEAD's associated data). */
function place(senderId: string, field: string): string {
  return `mailbox:${senderId}:${field}`;
}

export interface MailboxUpdateInput {
  delivery?: 'n8n' | 'corofy';
  unsubscribeEmail?: string | null;
  smtp?: MailboxServerInput | null;
  imap?: MailboxServerInput | null;
}

/** The mailbox part of PUT /v1/senders/:id as put_sender takes it: settings apart, secrets sealed. */
export function mailboxUpdate(box: SecretBox, senderId: string, input: MailboxUpdateInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const setSecrets: Record<string, string> = {};
  const dropSecrets: string[] = [];
  if (input.delivery !== undefined) out.delivery = input.delivery;
  if (input.unsubscribeEmail !== undefined) out.unsubscribeEmail = input.unsubscribeEmail;
  for (const half of ['smtp', 'imap'] as const) {
    const server = input[half];
    if (server === undefined) continue;
    if (server === null) {
      out[half] = null;
      dropSecrets.push(...SECRET_PLACES(half));
      continue;
    }
    const seal = (field: string, value: string) => (setSecrets[field] = box.seal(value, place(senderId, field)));
    out[half] = {
      host: server.host,
      port: server.port,
      tls: server.tls,
      user: server.user,
      oauth2: server.oauth2
        ? { clientId: server.oauth2.clientId, tokenUrl: server.oauth2.tokenUrl, scope: server.oauth2.scope ?? null }
        : null,
    };
    if (server.oauth2) {
      dropSecrets.push(`${half}.password`);
      if (server.oauth2.clientSecret !== undefined) seal(`${half}.oauth2.clientSecret`, server.oauth2.clientSecret);
      if (server.oauth2.refreshToken !== undefined) seal(`${half}.oauth2.refreshToken`, server.oauth2.refreshToken);
    } else {
      dropSecrets.push(`${half}.oauth2.clientSecret`, `${half}.oauth2.refreshToken`);
      if (server.password !== undefined) seal(`${half}.password`, server.password);
    }
  }
  if (Object.keys(out).length === 0) return {};
  return { ...out, setSecrets, dropSecrets };
}

// ---------------------------------------------------------------------------
// The one way other code reads a mailbox: settings with their secrets opened.
// ---------------------------------------------------------------------------

export type MailboxAuth =
  | { kind: 'password'; user: string; password: string | undefined }
  | {
      kind: 'oauth2';
      user: string;
      clientId: string;
      clientSecret: string | undefined;
      refreshToken: string | undefined;
      tokenUrl: string;
      scope: string | null;
    };

export interface MailboxServer {
  host: string;
  port: number;
  tls: TlsMode;
  auth: MailboxAuth;
}

export interface MailboxSettings {
  senderId: string;
  fromName: string | null;
  fromEmail: string | null;
  delivery: 'n8n' | 'corofy';
  unsubscribeEmail: string | null;
  smtp: MailboxServer | null;
  imap: MailboxServer | null;
  paused: { at: string; code: string; reason: string } | null;
}

interface StoredServer {
  host: string;
  port: number;
  tls: TlsMode;
  user: string;
  oauth2: { clientId: string; tokenUrl: string; scope?: string | null } | null;
}

interface StoredMailbox extends Omit<MailboxSettings, 'smtp' | 'imap'> {
  smtp: StoredServer | null;
  imap: StoredServer | null;
  secrets: Record<string, string>;
}

/**
 * A sender's mailbox with its secrets decrypted, for the code that connects
 * (the dispatcher's SMTP, the IMAP watcher). Keep the result in memory only:
 * never log it, never return it from the API.
 */
export async function loadMailboxSettings(
  deps: { db: Database; secretBox: SecretBox },
  senderId: string,
): Promise<MailboxSettings> {
  const stored = await deps.db.call<StoredMailbox>('mailbox_settings', { p_sender: senderId });
  const open = (field: string) => {
    const sealed = stored.secrets[field];
    return sealed === undefined ? undefined : deps.secretBox.open(sealed, place(senderId, field));
  };
  const server = (half: Half): MailboxServer | null => {
    const s = stored[half];
    if (!s) return null;
    const auth: MailboxAuth = s.oauth2
      ? {
          kind: 'oauth2',
          user: s.user,
          clientId: s.oauth2.clientId,
          tokenUrl: s.oauth2.tokenUrl,
          scope: s.oauth2.scope ?? null,
          clientSecret: open(`${half}.oauth2.clientSecret`),
          refreshToken: open(`${half}.oauth2.refreshToken`),
        }
      : { kind: 'password', user: s.user, password: open(`${half}.password`) };
    return { host: s.host, port: s.port, tls: s.tls, auth };
  };
  return {
    senderId: stored.senderId,
    fromName: stored.fromName,
    fromEmail: stored.fromEmail,
    delivery: stored.delivery,
    unsubscribeEmail: stored.unsubscribeEmail,
    smtp: server('smtp'),
    imap: server('imap'),
    paused: stored.paused,
  };
}

/**
 * Reseals every stored secret that an older key sealed (COROFY_SECRET_KEY_PREVIOUS)
 * under the current key. Runs at start; safe with several replicas (a row changed
 * meanwhile is left for the next start).
 */
export async function resealMailboxSecrets(deps: { db: Database; secretBox: SecretBox }): Promise<number> {
  const rows = await deps.db.call<{ senderId: string; secrets: Record<string, string> }[]>('list_mailbox_secrets');
  let resealed = 0;
  for (const row of rows) {
    const stale = Object.entries(row.secrets).filter(([, sealed]) => deps.secretBox.isStale(sealed));
    if (stale.length === 0) continue;
    const next = { ...row.secrets };
    for (const [field, sealed] of stale) {
      const where = place(row.senderId, field);
      next[field] = deps.secretBox.seal(deps.secretBox.open(sealed, where), where);
    }
    if (await deps.db.call<boolean>('reseal_mailbox_secrets', { p_sender: row.senderId, p_old: row.secrets, p_new: next })) {
      resealed += stale.length;
    }
  }
  return resealed;
}
