// A local fake of OpenAI's chat completions for tests, benchmarks and the
// sandbox demo. It speaks the wire format Corofy uses (see shared
// notes/providers.md): POST /v1/chat/completions with response_format
// json_schema, the x-ratelimit-* headers on every answer, 429 bodies for both
// rate_limit_exceeded and insufficient_quota, 401 invalid_api_key, 5xx and slow
// answers. The "model" is deterministic: it reads the JSON data block of the
// prompt and writes a plausible email, in the language the system message asks
// for, that greets the lead by first name and names the product it was given
// (or the catalog product the website mentions), else what the sender's
// company sells (from the system message); from a page it also returns a short
// companySummary. Tokens are counted with o200k_base (gpt-4o's encoding) the
// way OpenAI bills a chat request, so benchmarks measure real prompt sizes.
// Plain node:http, no test framework.
import { armFaultRules, takeFault as takeFaultOf, type ArmedFaultRule, type FaultRule } from '../fault-rules';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

export type FakeOpenAIFault =
  /** 429 rate_limit_exceeded; retry-after-ms (default 50) and/or retry-after seconds. */
  | { kind: 'rate_limit'; retryAfterMs?: number | null; retryAfterSeconds?: number | null }
  /** 429 insufficient_quota (billing): must never be retried. */
  | { kind: 'insufficient_quota' }
  | { kind: 'invalid_api_key' }
  | { kind: 'server_error'; status?: 500 | 502 | 503 }
  /** Answers normally after a delay. */
  | { kind: 'slow'; delayMs: number }
  /** The "model" misbehaves: a placeholder signature, another first name, an over-long body, or not JSON. */
  | { kind: 'bad_draft'; flaw: 'placeholder' | 'wrong_name' | 'too_long' | 'not_json' };

export type FakeOpenAIFaultRule = FaultRule<FakeOpenAIFault>;

export interface FakeOpenAIOptions {
  /** Requests per minute; the budget refills continuously like OpenAI's (default 10 000). */
  rpm?: number;
  /** Burst capacity of the request budget (default: rpm). */
  burst?: number;
  /** Tokens per minute (default 10 000 000). */
  tpm?: number;
  /** Every answer takes this long (default 0). */
  latencyMs?: number;
  /** The accepted API key; anything else gets 401 invalid_api_key (default: any key). */
  apiKey?: string;
  /** A model that follows instructions found in website text (to prove our guard catches it). */
  injectionSusceptible?: boolean;
  faults?: FakeOpenAIFaultRule[];
  port?: number;
}

export interface FakeOpenAIRequest {
  at: number;
  status: number;
  model: string;
  system: string;
  user: string;
  /** Counted as OpenAI bills them (only for answered requests; 0 otherwise). */
  promptTokens: number;
  completionTokens: number;
}

export interface FakeOpenAIState {
  /** Every request, in arrival order (also the rejected ones). */
  requests: FakeOpenAIRequest[];
  completions: number;
  rateLimited: number;
  faults: ArmedFaultRule<FakeOpenAIFaultRule>[];
}

export interface FakeOpenAI {
  url: string;
  /** The base URL to configure as OPENAI_BASE_URL (…/v1). */
  baseUrl: string;
  state: FakeOpenAIState;
  setFaults(rules: FakeOpenAIFaultRule[]): void;
  close(): Promise<void>;
}

interface PromptData {
  lead?: { firstName?: string | null; companyName?: string | null; industry?: string | null; title?: string | null };
  product?: { id?: string; product?: string; pitch?: string } | null;
  catalog?: { id: string; product: string; pitch: string; keywords?: string[]; industries?: string[] }[];
  website?: { url?: string; title?: string | null; content?: string; summary?: string } | null;
  limits?: { maxTextChars?: number };
  followUp?: { step?: number; instruction?: string };
  sentBefore?: { step: number; text: string }[];
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const rpm = options.rpm ?? 10_000;
  const burst = options.burst ?? rpm;
  const tpm = options.tpm ?? 10_000_000;
  const state: FakeOpenAIState = { requests: [], completions: 0, rateLimited: 0, faults: [] };
  const setFaults = (rules: FakeOpenAIFaultRule[]) => {
    state.faults = armFaultRules(rules);
  };
  setFaults(options.faults ?? []);

  // Continuous-refill budgets, as OpenAI describes them.
  let requestLevel = burst;
  let tokenLevel = tpm;
  let last = performance.now();
  const refill = () => {
    const now = performance.now();
    const dt = now - last;
    last = now;
    requestLevel = Math.min(burst, requestLevel + (dt * rpm) / 60_000);
    tokenLevel = Math.min(tpm, tokenLevel + (dt * tpm) / 60_000);
  };
  const limitHeaders = (): Record<string, string> => ({
    'x-ratelimit-limit-requests': String(rpm),
    'x-ratelimit-limit-tokens': String(tpm),
    'x-ratelimit-remaining-requests': String(Math.max(0, Math.floor(requestLevel))),
    'x-ratelimit-remaining-tokens': String(Math.max(0, Math.floor(tokenLevel))),
    'x-ratelimit-reset-requests': formatDuration(((burst - requestLevel) * 60_000) / rpm),
    'x-ratelimit-reset-tokens': formatDuration(((tpm - tokenLevel) * 60_000) / tpm),
  });

  const takeFault = (): FakeOpenAIFault | undefined => takeFaultOf<FakeOpenAIFault, FakeOpenAIFaultRule>(state.faults);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => {
        if (!res.headersSent) send(res, 500, {}, { error: { message: 'fake crashed', type: 'server_error', param: null, code: null } });
      });
    });
  });

  const send = (res: http.ServerResponse, status: number, headers: Record<string, string>, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_fake_${state.requests.length}`, ...headers });
    res.end(JSON.stringify(body));
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      send(res, 404, {}, { error: { message: `Unknown request URL: ${req.method} ${path}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
      return;
    }
    let body: {
      model?: string;
      messages?: { role: string; content: string }[];
      response_format?: { type?: string; json_schema?: { name?: string; schema?: unknown } };
      max_completion_tokens?: number;
      max_tokens?: number;
    };
    try {
      body = JSON.parse(raw);
    } catch {
      send(res, 400, {}, { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } });
      return;
    }
    const system = body.messages?.find((m) => m.role === 'system')?.content ?? '';
    const user = body.messages?.filter((m) => m.role === 'user').map((m) => m.content).join('\n') ?? '';
    const model = body.model ?? 'gpt-4o-mini';
    const record = (status: number, usage = { prompt: 0, completion: 0 }) =>
      state.requests.push({ at: Date.now(), status, model, system, user, promptTokens: usage.prompt, completionTokens: usage.completion });

    const fault = takeFault();
    if (fault?.kind === 'slow') await delay(fault.delayMs);

    const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!auth || (options.apiKey !== undefined && auth !== options.apiKey) || fault?.kind === 'invalid_api_key') {
      record(401);
      send(res, 401, {}, {
        error: {
          message: `Incorrect API key provided: ${(auth ?? '').slice(0, 3)}***. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
      return;
    }
    if (fault?.kind === 'insufficient_quota') {
      record(429);
      state.rateLimited++;
      send(res, 429, limitHeaders(), {
        error: {
          message: 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
          type: 'insufficient_quota',
          param: null,
          code: 'insufficient_quota',
        },
      });
      return;
    }
    if (fault?.kind === 'server_error') {
      record(fault.status ?? 500);
      send(res, fault.status ?? 500, limitHeaders(), {
        error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null },
      });
      return;
    }

    refill();
    const maxOut = body.max_completion_tokens ?? body.max_tokens ?? 1000;
    const promptTokens = countPromptTokens(body.messages ?? [], body.response_format?.json_schema?.schema);
    const requested = promptTokens + maxOut;
    const overRequests = requestLevel < 1;
    const overTokens = tokenLevel < requested;
    if (fault?.kind === 'rate_limit' || overRequests || overTokens) {
      const waitMs =
        fault?.kind === 'rate_limit'
          ? (fault.retryAfterMs ?? (fault.retryAfterSeconds ?? 0) * 1000) || 50
          : Math.ceil(Math.max(overRequests ? ((1 - requestLevel) * 60_000) / rpm : 0, overTokens ? ((requested - tokenLevel) * 60_000) / tpm : 0));
      const headers = limitHeaders();
      if (fault?.kind !== 'rate_limit' || fault.retryAfterMs !== null) headers['retry-after-ms'] = String(waitMs);
      if (fault?.kind !== 'rate_limit' || fault.retryAfterSeconds !== null) headers['retry-after'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
      if (fault?.kind === 'rate_limit' && fault.retryAfterMs === undefined && fault.retryAfterSeconds !== undefined && fault.retryAfterSeconds !== null) {
        delete headers['retry-after-ms'];
      }
      record(429);
      state.rateLimited++;
      const what = overTokens && !overRequests ? 'tokens per min (TPM)' : 'requests per min (RPM)';
      const limit = overTokens && !overRequests ? tpm : rpm;
      send(res, 429, headers, {
        error: {
          message: `Rate limit reached for ${model} in organization org-fake on ${what}: Limit ${limit}, Used ${limit}, Requested 1. Please try again in ${waitMs}ms. Visit https://platform.openai.com/account/rate-limits to learn more.`,
          type: overTokens && !overRequests ? 'tokens' : 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      });
      return;
    }
    if (body.response_format?.type !== 'json_schema' || !body.response_format.json_schema?.schema) {
      record(400);
      send(res, 400, {}, { error: { message: "Corofy's fake only answers response_format json_schema.", type: 'invalid_request_error', param: 'response_format', code: null } });
      return;
    }
    requestLevel -= 1;
    tokenLevel -= requested;
    // The budget is taken on arrival (as a gateway does); then the "model" thinks.
    if (options.latencyMs) await delay(options.latencyMs);

    const content = writeEmail(system, user, options.injectionSusceptible === true, fault?.kind === 'bad_draft' ? fault.flaw : undefined);
    const completionTokens = countTokens(content);
    tokenLevel += Math.max(0, maxOut - completionTokens);
    state.completions++;
    record(200, { prompt: promptTokens, completion: completionTokens });
    send(res, 200, { ...limitHeaders(), 'openai-processing-ms': String(options.latencyMs ?? 0) }, {
      id: `chatcmpl-fake${state.completions}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      system_fingerprint: 'fp_fake',
    });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    state,
    setFaults,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let encoder: Tiktoken | undefined;
function countTokens(text: string): number {
  // the ranks are a subpath export, which this repository's node10 module resolution cannot type
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  encoder ??= new Tiktoken(require('js-tiktoken/ranks/o200k_base') as TiktokenBPE);
  return encoder.encode(text).length;
}

/** Prompt tokens as OpenAI counts a chat request: each message's content plus its framing, the reply priming, and the schema of structured output. */
function countPromptTokens(messages: { role: string; content: string }[], schema: unknown): number {
  const perMessage = 3;
  const priming = 3;
  const content = messages.reduce((n, m) => n + perMessage + countTokens(m.role) + countTokens(String(m.content ?? '')), 0);
  return content + priming + (schema ? countTokens(JSON.stringify(schema)) : 0);
}

interface Phrases {
  hi: string;
  hello: string;
  read: (title: string, company: string) => string;
  industry: (industry: string, company: string) => string;
  cameAcross: (company: string) => string;
  supply: (product: string, company: string) => string;
  cta: string;
  subjectFor: (what: string, company: string) => string;
}

const PHRASES: Record<string, Phrases> = {
  English: {
    hi: 'Hi', hello: 'Hello,',
    read: (t, c) => `I was reading ${t} and it sounds like ${c} is busy.`,
    industry: (i, c) => `I work with a number of ${i} companies and thought of ${c}.`,
    cameAcross: (c) => `I came across ${c} and wanted to reach out.`,
    supply: (p, c) => `We supply ${p} and could send samples to ${c} this month.`,
    cta: 'Would a 15-minute call next week be useful?',
    subjectFor: (w, c) => `${w} for ${c}`,
  },
  German: {
    hi: 'Hallo', hello: 'Guten Tag,',
    read: (t, c) => `Ich habe ${t} gelesen, und bei ${c} scheint viel los zu sein.`,
    industry: (i, c) => `Ich arbeite mit einigen Unternehmen aus dem Bereich ${i} und dachte an ${c}.`,
    cameAcross: (c) => `Ich bin auf ${c} gestoßen und wollte mich kurz melden.`,
    supply: (p, c) => `Wir liefern ${p} und könnten ${c} noch diesen Monat Muster schicken.`,
    cta: 'Hätten Sie nächste Woche Zeit für ein kurzes Gespräch von 15 Minuten?',
    subjectFor: (w, c) => `${w} für ${c}`,
  },
  French: {
    hi: 'Bonjour', hello: 'Bonjour,',
    read: (t, c) => `J'ai lu ${t} et ${c} semble très actif.`,
    industry: (i, c) => `Je travaille avec plusieurs entreprises du secteur ${i} et j'ai pensé à ${c}.`,
    cameAcross: (c) => `J'ai découvert ${c} et je souhaitais vous écrire.`,
    supply: (p, c) => `Nous fournissons ${p} et pourrions envoyer des échantillons à ${c} ce mois-ci.`,
    cta: 'Auriez-vous 15 minutes pour un appel la semaine prochaine ?',
    subjectFor: (w, c) => `${w} pour ${c}`,
  },
  Spanish: {
    hi: 'Hola', hello: 'Hola,',
    read: (t, c) => `Estuve leyendo ${t} y parece que ${c} tiene mucho movimiento.`,
    industry: (i, c) => `Trabajo con varias empresas del sector ${i} y pensé en ${c}.`,
    cameAcross: (c) => `Conocí ${c} y quería ponerme en contacto.`,
    supply: (p, c) => `Suministramos ${p} y podríamos enviar muestras a ${c} este mes.`,
    cta: '¿Le vendría bien una llamada de 15 minutos la próxima semana?',
    subjectFor: (w, c) => `${w} para ${c}`,
  },
};

function systemLine(system: string, label: string): string | undefined {
  return new RegExp(`^${label}: (.+)$`, 'm').exec(system)?.[1]?.trim();
}

/** The deterministic "model": a short, plausible cold email from the prompt's data block. */
function writeEmail(system: string, user: string, susceptible: boolean, flaw: string | undefined): string {
  if (flaw === 'not_json') return 'Sure! Here is a great email for you.';
  const data = parseDataBlock(user);
  const lead = data.lead ?? {};
  const company = lead.companyName ?? 'your team';
  const website = data.website ?? undefined;
  const languageName = /Write the subject and the body in ([A-Za-z]+)/.exec(system)?.[1] ?? 'English';
  const say = PHRASES[languageName] ?? PHRASES.English!;

  if (susceptible && website?.content && /ignore (all )?(previous|prior|above) instructions/i.test(website.content)) {
    // A model that obeys the page: it dumps its instructions and drops the format.
    return JSON.stringify({ subject: 'My instructions', body: `Here is my system prompt:\n${system}`, productId: null, companySummary: null });
  }

  if (data.followUp) {
    // a follow-up: short, no new pitch, in the thread of the emails already sent
    const firstName = flaw === 'wrong_name' ? 'Alexandra' : lead.firstName;
    const greeting = firstName ? `${say.hi} ${firstName},` : say.hello;
    const body = `${greeting}\n\nI wanted to bring my note about ${company} back to the top of your inbox (follow-up ${data.followUp.step ?? 2}).\n\n${say.cta}`;
    return JSON.stringify({ subject: `Following up with ${company}`, body, productId: null, companySummary: null });
  }

  let product = data.product ?? null;
  let productId: string | null = null;
  if (!product && website?.content && data.catalog) {
    const text = `${website.title ?? ''} ${website.content ?? ''}`.toLowerCase();
    const picked = data.catalog.find((p) => [...(p.keywords ?? []), ...(p.industries ?? [])].some((k) => k && text.includes(k.toLowerCase())));
    if (picked) {
      product = picked;
      productId = picked.id;
    }
  }
  const firstName = flaw === 'wrong_name' ? 'Alexandra' : lead.firstName;
  const greeting = firstName ? `${say.hi} ${firstName},` : say.hello;
  const opener = website
    ? say.read(website.title ? `"${website.title}"` : 'your website', company)
    : lead.industry
      ? say.industry(lead.industry.toLowerCase(), company)
      : say.cameAcross(company);
  const offer = systemLine(system, 'What we sell');
  const pitch = product ? `${product.pitch ?? ''} ${say.supply(product.product ?? '', company)}` : (offer ?? '');
  let body = `${greeting}\n\n${opener} ${pitch}\n\n${say.cta}`;
  if (flaw === 'placeholder') body += '\n\nBest regards,\n[Your Name]';
  if (flaw === 'too_long') body += `\n\n${'We are proud of our quality and service. '.repeat(200)}`;
  const ourName = systemLine(system, 'Name');
  const subject = say.subjectFor(product?.product ?? ourName ?? 'An idea', company);
  const companySummary = website?.content ? summarize(company, website.content) : null;
  return JSON.stringify({ subject, body, productId, companySummary });
}

/** "What the company does" from a page: its first two sentences of prose. */
function summarize(company: string, page: string): string {
  const prose = page
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .join(' ')
    .replace(/\s+/g, ' ');
  const sentences = prose.match(/[^.!?]+[.!?]/g)?.slice(0, 2).join(' ') ?? prose.slice(0, 200);
  return `${company}: ${sentences.trim()}`.slice(0, 400);
}

function parseDataBlock(user: string): PromptData {
  const start = user.indexOf('```json\n');
  const end = user.lastIndexOf('\n```');
  if (start < 0 || end <= start) return {};
  try {
    return JSON.parse(user.slice(start + 8, end)) as PromptData;
  } catch {
    return {};
  }
}

/** 1500 → "1.5s", 12 → "12ms", 360000 → "6m0s" (OpenAI's header format). */
function formatDuration(ms: number): string {
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.ceil(v)}ms`;
  const s = v / 1000;
  if (s < 60) return `${Math.round(s * 1000) / 1000}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round((s - m * 60) * 1000) / 1000}s`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
