import type { Logger } from '../app/logger';
import { matchIndustry, type Product } from '../catalog/catalog';
import type { Config } from '../config/env';
import type { Database } from '../db/database';
import { OpenAIProviderError, type OpenAIClient } from '../providers/openai-client';
import type { FirecrawlClient } from '../providers/firecrawl-client';
import { renderFooter, unsubscribeFooter } from '../unsubscribe/footer';
import { fillTemplate } from '../sequences/template';
import { promptLeadOf, signatureFor, writeDraft, writeLeadDraft, type AIUsage, type DraftRejected, type DraftSource, type LeadFields, type Written } from './draft';
import { languageFor } from './language';
import { textToHtml, type SenderProfile } from './prompt';
import type { HostResolver } from './safe-url';
import { WebsiteReader } from './website';
import type { ComposedEmail, ComposeFailure, ComposeResult, DraftTokens, PreviewResult } from './compose-schema';

// Compose as a whole: which leads of a call get a draft (stored ones are
// returned, refused ones reported), bounded concurrency, storing each draft
// with its unsubscribe footer. What is pitched comes from the catalog first
// (the lead's industry names a product), the company's website next
// (website.ts: the page once per domain, its short profile after that), a
// generic pitch when there is nothing to go on; draft.ts writes it, for the
// sender's company, in the lead's language.

export interface ComposeDeps {
  config: Config;
  db: Database;
  logger: Logger;
  openai: OpenAIClient;
  firecrawl: FirecrawlClient;
  resolveHost: HostResolver;
}

export interface ComposeRequest {
  leadIds: string[];
  regenerate: boolean;
  sender: string;
  /** Where unsubscribe links point (COROFY_PUBLIC_URL or the request's origin). */
  baseUrl: string;
}

export interface PreviewRequest {
  sender: string;
  lead: LeadFields | { id: string };
  /** Profile fields to try instead of the stored ones (null and absent fields keep the stored value). */
  profile?: Partial<{ [K in keyof SenderProfile]: SenderProfile[K] | null }>;
  baseUrl: string;
}

/** A sequence step as the sender defined it (routines/sequences.sql). */
interface SequenceStepDef {
  delayBusinessDays: number;
  mode: 'ai' | 'template';
  instruction: string | null;
  template: { subject?: string; text: string } | null;
}

interface PreparedLead extends LeadFields {
  id: string;
  missing?: boolean;
  status?: string;
  /** The sequence step the lead is on (1: the first email). */
  step?: number;
  /** For a follow-up: its step's definition (null when the sequence no longer has it). */
  sequenceStep?: SequenceStepDef | null;
  /** For a follow-up: the emails already sent to the lead, oldest first. */
  sentBefore?: { step: number; subject: string; text: string }[] | null;
  refusal?: string | null;
  draft?: StoredDraft | null;
}

interface StoredDraft {
  leadId: string;
  subject: string;
  text: string;
  html: string;
  product: string | null;
  source: DraftSource;
  model: string | null;
  language: string | null;
  tokens: DraftTokens | null;
}

interface SenderIdentity {
  id: string;
  fromName: string | null;
  postalAddress: string | null;
  privacyNoticeUrl: string | null;
}

interface Prepared {
  sender: SenderIdentity;
  profile: SenderProfile;
  catalog: Product[];
  leads: PreparedLead[];
}

const REFUSALS: Record<string, string> = {
  lead_sent: 'The lead was already sent this email.',
  lead_replied: 'The lead replied: nothing more is composed for them.',
  lead_bounced: "The lead's address bounced.",
  lead_unsubscribed: 'The lead unsubscribed.',
  lead_complained: 'The lead complained (marked as spam).',
  lead_erased: "The person's data was erased at their request: nothing is ever written to them again.",
  lead_stopped: 'The lead stopped: someone at its company replied.',
  step_not_in_sequence: "The sender's sequence has no such step any more.",
  previous_step_not_sent: 'The step before this follow-up was not sent.',
  lead_suppressed: "The lead's address or domain is on the suppression list.",
  lead_already_scheduled: 'The lead already has a send scheduled with the stored draft; it cannot be regenerated now.',
};

export class Composer {
  private readonly websites: WebsiteReader;

  constructor(private readonly deps: ComposeDeps) {
    this.websites = new WebsiteReader(deps);
  }

  async compose(req: ComposeRequest): Promise<ComposeResult> {
    const leadIds = [...new Set(req.leadIds)];
    const prepared = await this.deps.db.call<Prepared>('compose_prepare', {
      p_lead_ids: leadIds,
      p_sender: req.sender,
      p_regenerate: req.regenerate,
    }, { repeatable: true });
    const results: ({ email: ComposedEmail } | { failure: ComposeFailure } | undefined)[] = [];
    const todo: { index: number; lead: PreparedLead }[] = [];
    const adopt: { index: number; lead: PreparedLead }[] = [];
    const suppressed: string[] = [];
    prepared.leads.forEach((lead, index) => {
      if (lead.missing) {
        results[index] = { failure: { leadId: lead.id, code: 'lead_not_found', detail: `No lead has id ${lead.id}.` } };
      } else if (lead.refusal) {
        results[index] = { failure: { leadId: lead.id, code: lead.refusal, detail: REFUSALS[lead.refusal] ?? lead.refusal } };
        if (lead.refusal === 'lead_suppressed' && (lead.status === 'claimed' || lead.status === 'composed')) suppressed.push(lead.id);
      } else if (lead.draft && !req.regenerate) {
        results[index] = { email: { ...storedEmail(lead.draft), generated: false } };
        // a lead claimed again (its earlier claim ran out after composing) is composed by its stored draft
        if (lead.status === 'claimed') adopt.push({ index, lead });
      } else {
        todo.push({ index, lead });
      }
    });

    // a suppressed lead ends here (skipped, claim given back) instead of cycling through claims
    for (const id of suppressed) await this.deps.db.call('skip_suppressed_lead', { p_lead_id: id });
    for (const { index, lead } of adopt) {
      const saved = await this.deps.db.call<{ ok: boolean; code?: string; detail?: string }>('save_draft', {
        p_lead_id: lead.id,
        p_draft: lead.draft,
        p_regenerate: false,
      }, { repeatable: true });
      if (!saved.ok) {
        const code = saved.code ?? 'draft_not_saved';
        results[index] = { failure: { leadId: lead.id, code, detail: saved.detail ?? REFUSALS[code] ?? code } };
      }
    }

    // a follow-up from a fixed template needs no AI
    if (todo.some(({ lead }) => !((lead.step ?? 1) > 1 && lead.sequenceStep?.mode === 'template'))) this.requireOpenAI();

    // Bounded concurrency; the process-wide limiter paces the AI calls. An
    // error that stops the call (billing, key) stops taking new leads at once.
    let stop: OpenAIProviderError | undefined;
    let next = 0;
    const worker = async () => {
      while (!stop && next < todo.length) {
        const { index, lead } = todo[next++]!;
        try {
          results[index] = await this.composeLead(lead, prepared, req);
        } catch (err) {
          if (err instanceof OpenAIProviderError && err.stopsCall) {
            stop ??= err;
          } else if (err instanceof OpenAIProviderError) {
            results[index] = { failure: { leadId: lead.id, code: err.code, detail: err.message } };
          } else {
            throw err;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.config.compose.concurrency, todo.length) }, worker));
    if (stop) throw stop;

    const emails: ComposedEmail[] = [];
    const failed: ComposeFailure[] = [];
    for (const r of results) {
      if (r && 'email' in r) emails.push(r.email);
      else if (r) failed.push(r.failure);
    }
    return { emails, failed };
  }

  /**
   * The draft a lead would get now, from the sender's current profile: nothing
   * is stored (no draft, no website cache, no usage), nothing is claimed.
   */
  async preview(req: PreviewRequest): Promise<PreviewResult | ComposeFailure> {
    const leadIds = 'id' in req.lead ? [req.lead.id] : [];
    const prepared = await this.deps.db.call<Prepared>('compose_prepare', { p_lead_ids: leadIds, p_sender: req.sender, p_regenerate: false });
    const stored = prepared.leads[0];
    if (stored?.missing) return { leadId: stored.id, code: 'lead_not_found', detail: `No lead has id ${stored.id}.` };
    const lead: LeadFields = stored ?? (req.lead as LeadFields);
    const trying = Object.fromEntries(Object.entries(req.profile ?? {}).filter(([, v]) => v !== null && v !== undefined));
    this.requireOpenAI();
    const written = await this.write(lead, { ...prepared, profile: { ...prepared.profile, ...trying } }, { store: false });
    if ('reason' in written) {
      return { leadId: stored?.id ?? null, ...rejection(written.reason) } as ComposeFailure;
    }
    const footer = renderFooter(`${req.baseUrl}/unsubscribe/preview`, prepared.sender, written.language);
    return {
      leadId: stored?.id ?? null,
      subject: written.subject,
      text: `${written.body}${footer.text}`,
      html: `${textToHtml(written.body)}\n${footer.html}`,
      product: written.product,
      source: written.source,
      model: written.usage.model,
      language: written.language.code,
      tokens: tokensOf(written.usage),
      requests: written.usage.requests,
      ...(written.website ? { website: written.website } : {}),
    };
  }

  private requireOpenAI(): void {
    if (!this.deps.openai.configured) {
      throw new OpenAIProviderError(
        'openai_not_configured',
        503,
        'OpenAI is not configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible endpoint) to compose emails.',
        true,
      );
    }
  }

  private async composeLead(
    lead: PreparedLead,
    prepared: Prepared,
    req: ComposeRequest,
  ): Promise<{ email: ComposedEmail } | { failure: ComposeFailure }> {
    const followUp = (lead.step ?? 1) > 1;
    if (followUp && !lead.sequenceStep) {
      return { failure: { leadId: lead.id, code: 'step_not_in_sequence', detail: REFUSALS.step_not_in_sequence! } };
    }
    if (followUp && !lead.sentBefore?.length) {
      return { failure: { leadId: lead.id, code: 'previous_step_not_sent', detail: REFUSALS.previous_step_not_sent! } };
    }
    const written = followUp ? await this.writeFollowUp(lead, prepared) : await this.write(lead, prepared, { store: true });
    if ('reason' in written) {
      await this.deps.db.call('reject_draft', {
        p_lead_id: lead.id,
        p_sender: prepared.sender.id,
        p_reason: written.reason,
        p_usage: written.usage,
      });
      return { failure: { leadId: lead.id, ...rejection(written.reason) } };
    }
    const { config, db } = this.deps;
    const footer = await unsubscribeFooter({ config, db }, req.baseUrl, lead.id, prepared.sender, written.language);
    const draft = {
      subject: written.subject,
      text: `${written.body}${footer.text}`,
      html: `${textToHtml(written.body)}\n${footer.html}`,
      product: written.product,
      source: written.source,
      model: written.usage.model,
      language: written.language.code,
      sender: prepared.sender.id,
      usage: written.usage,
    };
    const saved = await db.call<{ ok: boolean; code?: string; detail?: string; draft?: StoredDraft }>('save_draft', {
      p_lead_id: lead.id,
      p_draft: draft,
      p_regenerate: req.regenerate,
    }, { repeatable: !req.regenerate }); // without regenerate, a lead keeps its first stored draft
    if (!saved.ok || !saved.draft) {
      const code = saved.code ?? 'draft_not_saved';
      return { failure: { leadId: lead.id, code, detail: saved.detail ?? REFUSALS[code] ?? code } };
    }
    return { email: { ...storedEmail(saved.draft), generated: true, ...(written.website ? { website: written.website } : {}) } };
  }

  /**
   * A follow-up (step 2…): a reply in the thread of step 1 ("Re: <its subject>"),
   * filled in from the step's template, or written by the AI from the step's
   * instruction and the emails already sent, shorter, with the same guardrails.
   */
  private async writeFollowUp(lead: PreparedLead, prepared: Prepared): Promise<Written | DraftRejected> {
    const def = lead.sequenceStep!;
    const sentBefore = lead.sentBefore!;
    const { profile, sender } = prepared;
    const language = languageFor(profile.language, lead);
    const subject = `Re: ${sentBefore[0]!.subject.replace(/^(\s*re:\s*)+/i, '')}`;
    const signature = signatureFor(profile, language, sender.fromName);
    const noUsage: AIUsage = { model: 'template', requests: 0, promptTokens: 0, completionTokens: 0 };
    if (def.mode === 'template' && def.template) {
      const body = fillTemplate(def.template.text, { ...lead, senderName: sender.fromName }).trim();
      return { subject, body: `${body}\n\n${signature}`, product: null, source: 'template', language, usage: noUsage };
    }
    this.requireOpenAI();
    const result = await writeDraft(this.deps, {
      prompt: {
        lead: promptLeadOf(lead),
        product: null,
        followUp: {
          step: lead.step!,
          instruction: def.instruction,
          // without the unsubscribe footer: the model has no use for it
          sentBefore: sentBefore.map((e) => ({ step: e.step, text: e.text.split('\n\n--\n')[0]! })),
        },
      },
      profile,
      language,
      signature,
    });
    if (!result.ok) return { reason: result.reason, usage: result.usage };
    return { subject, body: result.body, product: null, source: 'followup', language, usage: result.usage };
  }

  /** Chooses what to pitch from (catalog, the company's website, nothing) and writes the draft. */
  private async write(lead: LeadFields, prepared: Prepared, opts: { store: boolean }): Promise<Written | DraftRejected> {
    const catalogProduct = matchIndustry(prepared.catalog, lead.industry ?? undefined);
    const target = lead.website ?? lead.companyDomain;
    if (catalogProduct || !target) {
      return writeLeadDraft(this.deps, lead, prepared, catalogProduct ? { product: catalogProduct } : {});
    }
    return this.websites.writeWithSite(target, opts, (from) => writeLeadDraft(this.deps, lead, prepared, from));
  }

}

function rejection(reason: string): { code: string; detail: string } {
  return { code: 'draft_rejected', detail: `The AI's draft was rejected twice; last reason: ${reason}.` };
}

function tokensOf(usage: AIUsage): DraftTokens {
  return { prompt: usage.promptTokens, completion: usage.completionTokens, total: usage.promptTokens + usage.completionTokens };
}

function storedEmail(d: StoredDraft): Omit<ComposedEmail, 'generated'> {
  return {
    leadId: d.leadId,
    subject: d.subject,
    text: d.text,
    html: d.html,
    product: d.product,
    source: d.source,
    model: d.model,
    language: d.language ?? null,
    tokens: d.tokens ?? null,
  };
}
