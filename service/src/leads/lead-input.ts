import { z } from '@hono/zod-openapi';
import { illFormedTextPath, LONE_SURROGATE_MESSAGE } from '../app/reject-lone-surrogates';
import { DomainSchema } from '../app/schemas';
import { normalizeCountry } from '../timezone/countries';
import { TimeZoneSchema } from '../timezone/zone-name';

const text = (max: number) => z.string().trim().min(1).max(max);

export const LeadInputSchema = z
  .object({
    email: z.string().trim().pipe(z.email({ message: 'must be a valid email address' })).pipe(z.string().max(254)),
    firstName: text(100).optional(),
    lastName: text(100).optional(),
    title: text(200).optional(),
    companyName: text(200).optional(),
    companyDomain: DomainSchema.optional(),
    website: text(2048).optional(),
    industry: text(200).optional(),
    country: text(100)
      .transform((v, ctx) => {
        const iso = normalizeCountry(v);
        if (!iso) {
          ctx.addIssue({ code: 'custom', message: `"${v}" is not an ISO 3166 country code or English country name` });
          return z.NEVER;
        }
        return iso;
      })
      .optional(),
    state: text(100).optional(),
    city: text(100).optional(),
    timezone: TimeZoneSchema.optional(),
    linkedinUrl: z.url({ message: 'must be a URL' }).max(2048).optional(),
    externalId: text(200).optional(),
    sourceDetail: text(500)
      .optional()
      .openapi({ description: 'Where this lead came from (a fair, a list bought from whom): kept for GDPR Art. 14 notices.' }),
    obtainedAt: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 date-time such as "2026-11-02T09:00:00Z"' })
      .refine((v) => Date.parse(v) <= Date.now() + 60_000, 'must not be in the future')
      .optional()
      .openapi({ description: 'When the data was obtained (default: when it is imported).' }),
  })
  .openapi('LeadInput');

export type LeadInput = z.infer<typeof LeadInputSchema>;

export const LeadSchema = LeadInputSchema.extend({
  id: z.string().openapi({ example: '42' }),
  email: z.string().optional(),
  country: z.string().optional(),
  companyDomain: z.string().optional(),
  linkedinUrl: z.string().optional(),
  timezone: z.string().optional(),
  timezoneSource: z.string().optional(),
  apolloId: z.string().optional(),
  status: z.string().openapi({ example: 'new' }),
  step: z.number().int().min(1).openapi({
    description: "The sequence step the lead is on: 1 for the first email, 2… for a follow-up (a batch's follow-ups are due today)",
    example: 1,
  }),
  statusReason: z.string().optional(),
  createdAt: z.string(),
}).openapi('Lead');

export type Lead = z.infer<typeof LeadSchema>;

const unknownAsNull = (description?: string) => z.string().nullable().openapi(description ? { description } : {});

/**
 * GET /v1/leads/{id}: one lead with every field of the contract, null when
 * unknown. (Batches and searches hand leads out by the hundred and leave the
 * unknown fields out instead: LeadSchema.)
 */
export const LeadRecordSchema = z
  .object({
    id: z.string().openapi({ example: '42' }),
    email: unknownAsNull('null once the lead was erased'),
    firstName: unknownAsNull(),
    lastName: unknownAsNull(),
    title: unknownAsNull(),
    companyName: unknownAsNull(),
    companyDomain: unknownAsNull(),
    website: unknownAsNull(),
    industry: unknownAsNull(),
    country: unknownAsNull('ISO 3166 alpha-2'),
    state: unknownAsNull(),
    city: unknownAsNull(),
    timezone: unknownAsNull(
      "The recipient's zone, resolved when the lead is imported (from its timezone, state, city or country); " +
        'null when nothing on the lead tells: the gate then uses the sending sender\'s zone.',
    ),
    timezoneSource: z
      .enum(['lead', 'state', 'city', 'country', 'country_default', 'sender'])
      .nullable()
      .openapi({ description: 'Where timezone came from; sender once gated on the sender\'s zone.' }),
    linkedinUrl: unknownAsNull(),
    externalId: unknownAsNull(),
    apolloId: unknownAsNull(),
    status: z.string().openapi({ example: 'new' }),
    statusReason: unknownAsNull(),
    source: z.enum(['apollo', 'import']).openapi({ description: 'Where the data came from (GDPR Art. 14): an Apollo search or an import.' }),
    sourceDetail: unknownAsNull('What the importer said about the source (import only).'),
    searchId: unknownAsNull('The Apollo search that found the lead (source apollo).'),
    obtainedAt: z.string().openapi({ description: 'When the data was obtained.' }),
    createdAt: z.string(),
  })
  .openapi('LeadRecord');

export type LeadRecord = z.infer<typeof LeadRecordSchema>;

const LEAD_RECORD_FIELDS = LeadRecordSchema.keyof().options;

/** A stored lead (its unknown fields left out) with every field of the contract, null when unknown. */
export function leadRecord(lead: Lead): LeadRecord {
  const stored = lead as Record<string, unknown>;
  return Object.fromEntries(LEAD_RECORD_FIELDS.map((field) => [field, stored[field] ?? null])) as LeadRecord;
}

export interface InvalidLead {
  index: number;
  reason: string;
}

/** Splits raw input into valid normalised leads (with their input index) and reasons for the rest. */
export function validateLeads(raw: unknown[]): { valid: LeadInput[]; validIndexes: number[]; invalid: InvalidLead[] } {
  const valid: LeadInput[] = [];
  const validIndexes: number[] = [];
  const invalid: InvalidLead[] = [];
  raw.forEach((item, index) => {
    const parsed = LeadInputSchema.safeParse(item);
    // text Postgres cannot store makes this lead invalid, not the whole import
    const illFormed = parsed.success ? illFormedTextPath(parsed.data) : undefined;
    if (illFormed) invalid.push({ index, reason: `${illFormed}: ${LONE_SURROGATE_MESSAGE}` });
    else if (parsed.success) {
      valid.push(parsed.data);
      validIndexes.push(index);
    }
    else
      invalid.push({
        index,
        reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(lead)'}: ${i.message}`).join('; '),
      });
  });
  return { valid, validIndexes, invalid };
}
