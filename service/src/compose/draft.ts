import type { Product } from '../catalog/catalog';
import type { Config } from '../config/env';
import type { OpenAIClient } from '../providers/openai-client';
import { languageFor, type Language } from './language';
import {
  buildSystemPrompt,
  buildUserPrompt,
  DRAFT_JSON_SCHEMA,
  draftProblem,
  DraftOutputSchema,
  INSTRUCTIONS_CANARY,
  SUMMARY_MAX_CHARS,
  type DraftOutput,
  type PromptInput,
  type PromptLead,
  type SenderProfile,
} from './prompt';
import type { WebsiteOutcome } from './compose-schema';
import type { CachedSite } from './website';

// One draft: the prompt from the lead and what is pitched, the AI call, the
// guardrails, and one regeneration with the reason when the first answer is unusable.

export type DraftSource = 'catalog' | 'website' | 'generic' | 'followup' | 'template';

/** The lead fields a draft is written from (a stored lead, or a preview's inline lead). */
export interface LeadFields {
  firstName?: string | null;
  lastName?: string | null;
  title?: string | null;
  companyName?: string | null;
  companyDomain?: string | null;
  website?: string | null;
  industry?: string | null;
  country?: string | null;
  state?: string | null;
  city?: string | null;
}

/** What the AI is told about the lead: the fields it may use, null when unknown. */
export function promptLeadOf(lead: LeadFields): PromptLead {
  return {
    firstName: lead.firstName ?? null,
    lastName: lead.lastName ?? null,
    title: lead.title ?? null,
    companyName: lead.companyName ?? null,
    industry: lead.industry ?? null,
    country: lead.country ?? null,
    city: lead.city ?? null,
  };
}

/** A draft written, not yet stored. */
export interface Written {
  subject: string;
  body: string;
  product: string | null;
  source: DraftSource;
  language: Language;
  usage: AIUsage;
  website?: WebsiteOutcome;
}

/** The AI's draft was unusable twice. */
export interface DraftRejected {
  reason: string;
  usage: AIUsage;
}

/** A draft written from a page the company had no profile of yet: the profile the AI wrote beside it. */
export type WrittenFromSite = Written & { summary?: string | null; summaryProductId?: string | null };

export interface DraftRequest {
  prompt: PromptInput;
  profile: SenderProfile;
  language: Language;
  /** Appended to the body (the profile's signature, else the sign-off and the sender's name). */
  signature: string;
}

export interface AIUsage {
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

export type DraftResult =
  | { ok: true; out: DraftOutput; body: string; usage: AIUsage; companySummary: string | null }
  | { ok: false; reason: string; usage: AIUsage };

export async function writeDraft(deps: { config: Config; openai: OpenAIClient }, req: DraftRequest): Promise<DraftResult> {
  const { config, openai } = deps;
  const system = buildSystemPrompt(req.profile, req.language, config.compose.maxTextChars, req.prompt);
  const usage: AIUsage = { model: openai.model, requests: 0, promptTokens: 0, completionTokens: 0 };
  let rejectedBecause: string | undefined;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const completion = await openai.completeJson({
      system,
      user: buildUserPrompt({ ...req.prompt, ...(rejectedBecause ? { rejectedBecause } : {}) }),
      schemaName: 'cold_email',
      schema: DRAFT_JSON_SCHEMA,
    });
    usage.model = completion.model;
    usage.requests += completion.attempts;
    usage.promptTokens += completion.usage.promptTokens;
    usage.completionTokens += completion.usage.completionTokens;
    const candidate = parseDraft(completion.content, completion.refusal);
    if ('problem' in candidate) {
      rejectedBecause = candidate.problem;
      continue;
    }
    const draft = candidate.draft;
    const problem = draftProblem(draft, req.prompt.lead, draft.body.trim().length + req.signature.length + 2, config.compose.maxTextChars);
    if (problem) {
      rejectedBecause = problem;
      continue;
    }
    return { ok: true, out: draft, body: `${draft.body.trim()}\n\n${req.signature}`, usage, companySummary: summaryOf(draft) };
  }
  return { ok: false, reason: rejectedBecause ?? 'no usable answer', usage };
}

/** The signature under every email: the profile's own, else the language's sign-off and the sender's name. */
export function signatureFor(profile: SenderProfile, language: Language, fromName: string | null): string {
  if (profile.signature && profile.signature.trim() !== '') return profile.signature.trim();
  return `${language.signOff}\n${fromName ?? ''}`.trim();
}

/** The company profile the model wrote, when it is fit to be reused for the domain's later leads. */
function summaryOf(draft: DraftOutput): string | null {
  const s = draft.companySummary?.replace(/\s+/g, ' ').trim();
  if (!s || s.length < 20 || s.includes(INSTRUCTIONS_CANARY)) return null;
  return s.slice(0, SUMMARY_MAX_CHARS);
}

function parseDraft(content: string | null, refusal: string | null): { draft: DraftOutput } | { problem: string } {
  if (refusal) return { problem: `the model refused: ${refusal.slice(0, 200)}` };
  if (!content) return { problem: 'the answer was empty' };
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    return { problem: 'the answer was not the JSON object of the schema' };
  }
  const parsed = DraftOutputSchema.safeParse(json);
  if (!parsed.success) {
    return { problem: `the answer did not match the schema (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})` };
  }
  return { draft: parsed.data };
}

/**
 * A lead's draft from what the sender pitches (a catalog product, the company's
 * website or its profile, or nothing: a generic introduction of the sender).
 */
export async function writeLeadDraft(
  deps: { config: Config; openai: OpenAIClient },
  lead: LeadFields,
  prepared: { profile: SenderProfile; catalog: Product[]; sender: { fromName: string | null } },
  from: { product?: Product; website?: WebsiteOutcome; site?: CachedSite },
): Promise<WrittenFromSite | DraftRejected> {
  const { profile, catalog, sender } = prepared;
  const language = languageFor(profile.language, lead);
  const promptLead = promptLeadOf(lead);
  const site = from.site;
  // A company read before: its profile and the product chosen for it then.
  const chosen = site?.summary ? catalog.find((p) => p.id === site.summaryProductId) : undefined;
  const prompt: PromptInput = {
    lead: promptLead,
    product: from.product ?? chosen ?? null,
    ...(site && !site.summary ? { catalog, website: { url: site.url, title: site.title, content: site.markdown ?? '' } } : {}),
    ...(site?.summary ? { website: { url: site.url, title: site.title, summary: site.summary } } : {}),
  };
  const result = await writeDraft(deps, {
    prompt,
    profile,
    language,
    signature: signatureFor(profile, language, sender.fromName),
  });
  if (!result.ok) return { reason: result.reason, usage: result.usage };
  const source: DraftSource = from.product ? 'catalog' : site ? 'website' : 'generic';
  const picked = site && !site.summary ? catalog.find((p) => p.id === result.out.productId) : undefined;
  return {
    subject: result.out.subject.trim(),
    body: result.body,
    product: from.product?.product ?? chosen?.product ?? picked?.product ?? null,
    source,
    language,
    usage: result.usage,
    ...(from.website ? { website: from.website } : {}),
    ...(site && !site.summary ? { summary: result.companySummary, summaryProductId: picked?.id ?? null } : {}),
  };
}
