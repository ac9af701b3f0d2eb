import { z } from '@hono/zod-openapi';
import ct from 'countries-and-timezones';
import { illFormedTextPath, LONE_SURROGATE_MESSAGE } from '../app/reject-lone-surrogates';
import { normalizeCountry } from '../timezone/countries';

const text = (max: number) => z.string().trim().min(1).max(max);

const zoneValidity = new Map<string, boolean>();
let supported: Set<string> | undefined;
const supportedZones = () => (supported ??= new Set(Intl.supportedValuesOf('timeZone')));
/** True for an IANA zone name this runtime knows (answers cached: imports repeat zones). */
export function isIanaZone(zone: string): boolean {
  let ok = zoneValidity.get(zone);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      // ICU still takes names tzdata dropped ("US/Pacific-New") that Postgres refuses
      ok = (zone.includes('/') || zone === 'UTC') && (supportedZones().has(zone) || Boolean(ct.getTimezone(zone)));
    } catch {
      ok = false;
    }
    zoneValidity.set(zone, ok);
  }
  return ok;
}

/** A bare host name: "https://www.Acme.com/about" → "acme.com". */
export function normalizeDomain(input: string): string | undefined {
  let host = input.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/[/?#].*$/, '').replace(/:\d+$/, '');
  host = host.replace(/^www\./, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host) ? host : undefined;
}

export const LeadInputSchema = z
  .object({
    email: z.string().trim().pipe(z.email({ message: 'must be a valid email address' })).pipe(z.string().max(254)),
    firstName: text(100).optional(),
    lastName: text(100).optional(),
    title: text(200).optional(),
    companyName: text(200).optional(),
    companyDomain: text(253)
      .transform((v, ctx) => {
        const d = normalizeDomain(v);
        if (!d) {
          ctx.addIssue({ code: 'custom', message: `"${v}" is not a domain name` });
          return z.NEVER;
        }
        return d;
      })
      .optional(),
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
    timezone: text(64)
      .refine(isIanaZone, { message: 'must be an IANA time zone such as "Europe/Berlin"' })
      .optional(),
    linkedinUrl: z.url({ message: 'must be a URL' }).max(2048).optional(),
    externalId: text(200).optional(),
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

export interface InvalidLead {
  index: number;
  reason: string;
}

/** Splits raw input into valid normalised leads (with their input index) and reasons for the rest. */
export function validateLeads(raw: unknown[]): { valid: LeadInput[]; invalid: InvalidLead[] } {
  const valid: LeadInput[] = [];
  const invalid: InvalidLead[] = [];
  raw.forEach((item, index) => {
    const parsed = LeadInputSchema.safeParse(item);
    // text Postgres cannot store makes this lead invalid, not the whole import
    const illFormed = parsed.success ? illFormedTextPath(parsed.data) : undefined;
    if (illFormed) invalid.push({ index, reason: `${illFormed}: ${LONE_SURROGATE_MESSAGE}` });
    else if (parsed.success) valid.push(parsed.data);
    else
      invalid.push({
        index,
        reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(lead)'}: ${i.message}`).join('; '),
      });
  });
  return { valid, invalid };
}
