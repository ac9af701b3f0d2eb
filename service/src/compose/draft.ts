import type { Config } from '../config/env';
import type { OpenAIClient } from '../providers/openai-client';
import type { Language } from './language';
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
  type SenderProfile,
} from './prompt';

// One draft: the prompt, the AI call, the guardrails, and one regeneration
// with the reason when the first answer is unusable.

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
