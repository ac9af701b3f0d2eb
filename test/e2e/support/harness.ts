// One harness for every end-to-end run in a real n8n (2.x, Node 24): a report of
// named checks printed as JSON, n8n provisioned once in a cache, our package
// packed and installed as n8n installs a community package, a database of the
// run's own, the service as a child process, a local SMTP server whose log is
// the source of truth, and the n8n CLI (import, execute, start) with each
// execution's node outputs read from n8n's own record.
//
// A scenario file does:  const e2e = await E2eRun.start('name');
//                         ... e2e.check(...) ...
//                         await e2e.finish();   // prints the JSON, exits 0 or 1
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { startFakeApollo, type FakeApollo } from '../../../sandbox/fake-apollo';
import { startFakeFirecrawl, type FakeFirecrawl } from '../../../sandbox/fake-firecrawl';
import { startFakeOpenAI, type FakeOpenAI } from '../../../sandbox/fake-openai';
import { freePort } from '../../../service/test/support/network';

export { freePort };

const execFileP = promisify(execFile);
export const REPO = path.resolve(__dirname, '../../..');
export const N8N_VERSION = process.env.N8N_VERSION ?? '2.40.7';
export const seconds = (ms: number) => Math.round(ms / 10) / 100;

// ---------------------------------------------------------------- small tools
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return await execFileP(cmd, args, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, maxBuffer: 512 * 1024 * 1024 });
}

/** SIGTERM, then SIGKILL after 20 s: a child that will not stop never hangs the run. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A port on 127.0.0.1 held by a listening socket of ours until it is closed. */
async function holdPort(): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { port: (server.address() as net.AddressInfo).port, server };
}

// ---------------------------------------------------------------- the run and its report
type Cleanup = () => Promise<void> | void;

export class E2eRun {
  readonly report: Record<string, unknown>;
  readonly checks: Array<{ check: string; ok: boolean; detail?: unknown }> = [];
  private readonly cleanups: Cleanup[] = [];
  private readonly started = Date.now();

  private constructor(
    readonly name: string,
    /** The run's temporary folder (kept with E2E_KEEP=1). */
    readonly tmp: string,
  ) {
    this.report = { scenario: name, n8nVersion: N8N_VERSION, node: process.version };
  }

  static start(name: string): E2eRun {
    return new E2eRun(name, fs.mkdtempSync(path.join(os.tmpdir(), `corofy-e2e-${name}-`)));
  }

  check(name: string, ok: boolean, detail?: unknown): boolean {
    this.checks.push({ check: name, ok, ...(ok ? {} : { detail }) });
    process.stderr.write(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : ` — ${JSON.stringify(detail)}`}\n`);
    return ok;
  }

  log(msg: string): void {
    process.stderr.write(`[e2e ${this.name} ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  }

  /** Runs last-in first-out when the run finishes, whatever happened. */
  onCleanup(fn: Cleanup): void {
    this.cleanups.push(fn);
  }

  /** Runs the scenario, then cleans up, prints the report and exits 0 only when every check passed. */
  async main(scenario: () => Promise<void>): Promise<never> {
    try {
      await scenario();
    } catch (err) {
      this.check('e2e ran to the end', false, String((err as Error).stack ?? err).slice(0, 4000));
    } finally {
      for (const c of this.cleanups.reverse()) {
        try {
          await c();
        } catch {
          // best effort: the next cleanup still runs
        }
      }
      if (process.env.E2E_KEEP === '1') this.log(`kept ${this.tmp}`);
      else fs.rmSync(this.tmp, { recursive: true, force: true });
    }
    const failed = this.checks.filter((c) => !c.ok);
    this.report.totalSeconds = seconds(Date.now() - this.started);
    this.report.checks = this.checks;
    this.report.passed = this.checks.length - failed.length;
    this.report.failed = failed.length;
    process.stdout.write(`${JSON.stringify(this.report, null, 2)}\n`);
    process.stdout.write(`e2e ${this.name}: ${this.checks.length - failed.length} passed, ${failed.length} failed\n`);
    process.exit(failed.length === 0 && this.checks.length > 0 ? 0 : 1);
  }
}

// ---------------------------------------------------------------- n8n and our package
/** n8n, installed once in a cache outside the repository (test/e2e/provision-n8n.sh). */
export async function provisionN8n(e2e: E2eRun): Promise<{ n8nDir: string; n8nBin: string }> {
  e2e.log('provisioning n8n (cached)');
  const t0 = Date.now();
  const n8nDir = (await run('bash', [path.join(REPO, 'test/e2e/provision-n8n.sh')])).stdout.trim().split('\n').pop()!;
  e2e.report.provisionSeconds = seconds(Date.now() - t0);
  return { n8nDir, n8nBin: path.join(n8nDir, 'node_modules/n8n/bin/n8n') };
}

/** Builds and packs our package and installs the tarball the way n8n installs a community package; returns the n8n user folder. */
export async function installNodePackage(e2e: E2eRun): Promise<string> {
  e2e.log('building and packing the node package');
  await run('npm', ['run', 'build']);
  const pack = await run('npm', ['pack', '--json', '--pack-destination', e2e.tmp]);
  const tarball = path.join(e2e.tmp, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0]!.filename);
  const userFolder = path.join(e2e.tmp, 'n8n-user');
  const nodesDir = path.join(userFolder, '.n8n', 'nodes');
  fs.mkdirSync(nodesDir, { recursive: true });
  fs.writeFileSync(path.join(nodesDir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true }));
  await run('npm', ['install', '--legacy-peer-deps', '--no-audit', '--no-fund', tarball], { cwd: nodesDir });
  return userFolder;
}

// ---------------------------------------------------------------- database and service
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** A Postgres database of this run's own, dropped when the run ends. */
export async function createDatabase(e2e: E2eRun): Promise<string> {
  const dbName = `corofy_e2e_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  e2e.onCleanup(async () => {
    const c = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
    await c.connect();
    await c.query(`drop database if exists ${dbName} with (force)`);
    await c.end();
  });
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${dbName}`;
  return url.toString();
}

export interface RunningService {
  url: string;
  apiKey: string;
  child: ChildProcess;
  /** A call with the API key; throws with the problem on a non-2xx answer. */
  api: (method: string, p: string, body?: unknown) => Promise<any>;
  stop: () => Promise<void>;
}

/**
 * The service (service/src/main.ts) as a child process on a free port, logging to
 * the run's folder. `env` adds or overrides variables (providers, secrets).
 */
export async function startService(
  e2e: E2eRun,
  opts: { databaseUrl: string; env?: NodeJS.ProcessEnv; port?: number; apiKey?: string; logName?: string; entry?: string },
): Promise<RunningService> {
  const port = opts.port ?? (await freePort());
  const apiKey = opts.apiKey ?? `e2e_${randomBytes(16).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;
  const logFile = fs.openSync(path.join(e2e.tmp, opts.logName ?? 'service.log'), 'a');
  // sandbox/main.ts: the service with the local fakes (and a clock the run may move)
  const child = spawn(process.execPath, ['--import', 'tsx', opts.entry ?? 'service/src/main.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: opts.databaseUrl,
      COROFY_API_KEY: apiKey,
      COROFY_SECRET_KEY: `e2e_${randomBytes(32).toString('hex')}`,
      COROFY_PUBLIC_URL: 'https://corofy.e2e.test',
      COROFY_RETRY_BACKOFF_SECONDS: '0',
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', logFile, logFile],
  });
  const stop = () => stopChild(child);
  e2e.onCleanup(stop);
  await waitFor('the service', async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 60_000);
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${text}`);
    return json;
  };
  return { url, apiKey, child, api, stop };
}

// ---------------------------------------------------------------- fake providers
export interface FakeProviders {
  apollo: FakeApollo;
  openai: FakeOpenAI;
  firecrawl: FakeFirecrawl;
  /** What the service needs to reach them (for startService's env). */
  env: NodeJS.ProcessEnv;
}

/**
 * Apollo, OpenAI and Firecrawl as local servers speaking their wire protocols
 * (sandbox/), stopped when the run ends. OpenAI answers at the fake's own
 * limits (the service's defaults fit a small real OpenAI tier).
 */
export async function startFakeProviders(e2e: E2eRun, apolloOptions: { seed: number; people: number }): Promise<FakeProviders> {
  const apollo = await startFakeApollo(apolloOptions);
  e2e.onCleanup(() => apollo.close());
  const openai = await startFakeOpenAI();
  e2e.onCleanup(() => openai.close());
  const firecrawl = await startFakeFirecrawl();
  e2e.onCleanup(() => firecrawl.close());
  const env = {
    APOLLO_API_KEY: apollo.state.apiKey,
    APOLLO_BASE_URL: apollo.url,
    OPENAI_API_KEY: 'sk-e2e',
    OPENAI_BASE_URL: openai.baseUrl,
    OPENAI_RPM: '10000',
    OPENAI_TPM: '10000000',
    FIRECRAWL_API_KEY: 'fc-e2e',
    FIRECRAWL_API_URL: firecrawl.url,
  };
  return { apollo, openai, firecrawl, env };
}

// ---------------------------------------------------------------- SMTP
export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  messageId: string;
  /** A header of the message by name (unfolded), '' when absent. */
  header: (name: string) => string;
  receivedAt: Date;
  raw: string;
  text: string;
  html: string;
}

let smtpGreetingImmediate = false;

/**
 * A local SMTP server (smtp-server) that records every accepted message.
 * `onRcptTo` may refuse an address (an Error with `responseCode`).
 */
export async function startSmtpServer(
  e2e: E2eRun,
  opts: { onRcptTo?: (to: string) => Error | undefined; auth?: SMTPServerOptions['onAuth'] } = {},
): Promise<{ port: number; received: ReceivedMail[] }> {
  // It answers at once like the other fakes: smtp-server holds its greeting 100 ms
  // to catch early talkers (a spam defence), and n8n's Send Email opens one
  // connection per email.
  if (!smtpGreetingImmediate) {
    smtpGreetingImmediate = true;
    (SMTPConnection.prototype as unknown as { init(): void }).init = function (this: {
      _setListeners(cb: () => void): void;
      connectionReady(): void;
    }) {
      this._setListeners(() => this.connectionReady());
    };
  }
  const received: ReceivedMail[] = [];
  const port = await freePort();
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    onAuth: opts.auth,
    disableReverseLookup: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      const refused = opts.onRcptTo?.(address.address.toLowerCase());
      callback(refused);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
        const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? '';
        const receivedAt = new Date();
        // the bodies as a reader sees them (quoted-printable or base64 decoded)
        simpleParser(raw)
          .then((mail) => {
            received.push({
              to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
              from: header('From'),
              subject: header('Subject'),
              messageId: header('Message-ID'),
              header,
              receivedAt,
              raw,
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
            });
            callback();
          })
          .catch((err: Error) => callback(err));
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(port, '127.0.0.1', resolve));
  e2e.onCleanup(() => new Promise<void>((resolve) => smtp.close(() => resolve())));
  return { port, received };
}

/** An SMTP refusal for `onRcptTo` (e.g. 451 temporary, 550 5.1.1 no such user). */
export function smtpRefusal(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

// ---------------------------------------------------------------- n8n
export interface Credential {
  id: string;
  name: string;
  type: string;
  data: Record<string, unknown>;
}

export interface NodeRun {
  data?: { main: Array<Array<{ json: any }> | null> };
  executionTime?: number;
}

export interface Execution {
  wallMs: number;
  execMs: number;
  nodeSeconds: Record<string, number>;
  status: string;
  /** The items a node output on one of its outputs (first run of the node). */
  items: (node: string, output?: number) => any[];
  ran: (node: string) => boolean;
}

export class N8n {
  readonly port: number;
  readonly env: NodeJS.ProcessEnv;
  private server: ChildProcess | undefined;

  private constructor(
    private readonly e2e: E2eRun,
    readonly n8nDir: string,
    readonly n8nBin: string,
    readonly userFolder: string,
    port: number,
    runnersPort: number,
    env: NodeJS.ProcessEnv,
  ) {
    this.port = port;
    this.env = {
      ...process.env,
      N8N_USER_FOLDER: userFolder,
      N8N_DIAGNOSTICS_ENABLED: 'false',
      N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
      N8N_PERSONALIZATION_ENABLED: 'false',
      N8N_TEMPLATES_ENABLED: 'false',
      N8N_PORT: String(port),
      N8N_LISTEN_ADDRESS: '127.0.0.1',
      N8N_RUNNERS_BROKER_PORT: String(runnersPort),
      N8N_LOG_LEVEL: 'warn',
      N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
      N8N_SECURE_COOKIE: 'false',
      DB_SQLITE_POOL_SIZE: '2',
      ...env,
    };
  }

  /** Listening sockets that hold n8n's ports until n8n itself runs (see prepare). */
  private reserved: net.Server[] = [];

  /**
   * n8n provisioned (cached) with our package installed, in the run's folder.
   * Its two ports are chosen now (a scenario may need its URL before it starts)
   * and held by sockets of ours until the first n8n process is spawned, so no
   * server the scenario starts meanwhile on port 0 (a fake, an SMTP server) can
   * be given one of them.
   */
  static async prepare(e2e: E2eRun, env: NodeJS.ProcessEnv = {}): Promise<N8n> {
    const { n8nDir, n8nBin } = await provisionN8n(e2e);
    const userFolder = await installNodePackage(e2e);
    const main = await holdPort();
    const runners = await holdPort();
    const n8n = new N8n(e2e, n8nDir, n8nBin, userFolder, main.port, runners.port, env);
    n8n.reserved = [main.server, runners.server];
    e2e.onCleanup(() => n8n.releasePorts());
    return n8n;
  }

  private async releasePorts(): Promise<void> {
    const held = this.reserved;
    this.reserved = [];
    await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async cli(args: string[]) {
    await this.releasePorts();
    return await run(process.execPath, [this.n8nBin, ...args], { env: this.env, cwd: this.e2e.tmp });
  }

  /**
   * Imports credentials and the shipped workflows (by file name under workflows/).
   * The shipped workflows carry no credentials: each node gets one picked here, as
   * an operator does after importing — ours the Corofy API credential, others by
   * node type from `credentialFor` ({ 'n8n-nodes-base.emailSend': 'smtp-credential-id' }).
   * `edit` may change a workflow before import (e.g. its sender).
   */
  async importWorkflows(opts: {
    credentials: Credential[];
    /** The Corofy API credential our nodes get; none: the workflows stay as shipped. */
    corofyCredentialId?: string;
    credentialFor?: Record<string, string>;
    workflows: string[];
    edit?: (file: string, workflow: any) => void;
  }): Promise<any[]> {
    const byId = new Map(opts.credentials.map((c) => [c.id, c]));
    const ref = (id: string) => {
      const c = byId.get(id);
      if (!c) throw new Error(`no credential ${id}`);
      return { [c.type]: { id: c.id, name: c.name } };
    };
    const workflows = opts.workflows.map((f) => {
      const wf = JSON.parse(fs.readFileSync(path.join(REPO, 'workflows', f), 'utf8'));
      for (const node of wf.nodes) {
        if (node.credentials) throw new Error(`${f}: node "${node.name}" ships with credentials`);
        if (String(node.type).startsWith('n8n-nodes-corofy.') && opts.corofyCredentialId) node.credentials = ref(opts.corofyCredentialId);
        else if (opts.credentialFor?.[node.type]) node.credentials = ref(opts.credentialFor[node.type]!);
      }
      opts.edit?.(f, wf);
      return wf;
    });
    const credentialsFile = path.join(this.e2e.tmp, `credentials-${Date.now()}.json`);
    const workflowsFile = path.join(this.e2e.tmp, `workflows-${Date.now()}.json`);
    fs.writeFileSync(credentialsFile, JSON.stringify(opts.credentials));
    fs.writeFileSync(workflowsFile, JSON.stringify(workflows));
    this.e2e.log('importing credentials and workflows into n8n');
    const t = Date.now();
    await this.cli(['import:credentials', `--input=${credentialsFile}`]);
    await this.cli(['import:workflow', `--input=${workflowsFile}`]);
    this.e2e.report.importSeconds = seconds(Date.now() - t);
    return workflows;
  }

  /** `n8n execute --id`, then what each node output, read from n8n's own execution record
   * (stdout of `n8n execute` is cut short for large runs). */
  async execute(id: string): Promise<Execution> {
    const t = Date.now();
    try {
      await this.cli(['execute', `--id=${id}`, '--rawOutput']);
    } catch (err) {
      const e = err as { stdout?: string; message: string };
      throw new Error(`n8n execute ${id} failed: ${e.message.slice(0, 2000)}\n${(e.stdout ?? '').slice(-3000)}`);
    }
    return { wallMs: Date.now() - t, ...(await this.lastRun()) };
  }

  /** What each node of the newest execution output, as n8n recorded it. */
  async lastRun(): Promise<Omit<Execution, 'wallMs'>> {
    const row = await this.lastExecution();
    const requireN8n = createRequire(path.join(this.n8nDir, 'node_modules', 'n8n', 'package.json'));
    const flatted = requireN8n('flatted') as { parse(text: string): any };
    const runData = flatted.parse(row.data).resultData.runData as Record<string, NodeRun[]>;
    const nodeSeconds = Object.fromEntries(Object.entries(runData).map(([n, runs]) => [n, seconds(runs[0]?.executionTime ?? 0)]));
    const items = (node: string, output = 0) => (runData[node]?.[0]?.data?.main?.[output] ?? []).map((i) => i.json);
    const execMs = Date.parse(`${row.stoppedAt.replace(' ', 'T')}Z`) - Date.parse(`${row.startedAt.replace(' ', 'T')}Z`);
    return { execMs, nodeSeconds, status: row.status, items, ran: (node: string) => runData[node] !== undefined };
  }

  /** The newest execution n8n recorded (of any workflow, e.g. one a webhook started). */
  async lastExecution(): Promise<{ id: number; status: string; startedAt: string; stoppedAt: string; data: string; workflowId: string }> {
    const requireN8n = createRequire(path.join(this.n8nDir, 'node_modules', 'n8n', 'package.json'));
    const sqlite3 = requireN8n('sqlite3') as {
      OPEN_READONLY: number;
      Database: new (file: string, mode: number) => {
        all(sql: string, cb: (err: Error | null, rows: any[]) => void): void;
        close(): void;
      };
    };
    const db = new sqlite3.Database(path.join(this.userFolder, '.n8n', 'database.sqlite'), sqlite3.OPEN_READONLY);
    try {
      const rows = await new Promise<any[]>((resolve, reject) =>
        db.all(
          'select e.id, e.status, e.startedAt, e.stoppedAt, e.workflowId, d.data from execution_entity e join execution_data d on d.executionId = e.id order by e.id desc limit 1',
          (err, r) => (err ? reject(err) : resolve(r)),
        ),
      );
      if (!rows[0]) throw new Error('n8n recorded no execution');
      return rows[0];
    } finally {
      db.close();
    }
  }

  /** `n8n start` (webhooks, triggers, the editor), waited for until /healthz answers. */
  async start(): Promise<void> {
    await this.releasePorts();
    const logFile = fs.openSync(path.join(this.e2e.tmp, 'n8n-start.log'), 'a');
    this.server = spawn(process.execPath, [this.n8nBin, 'start'], { env: this.env, cwd: this.e2e.tmp, stdio: ['ignore', logFile, logFile] });
    const server = this.server;
    this.e2e.onCleanup(() => stopChild(server));
    await waitFor('n8n /healthz', async () => ((await fetch(`${this.url}/healthz`)).ok ? true : undefined), 120_000);
  }

  async stop(): Promise<void> {
    if (this.server) await stopChild(this.server);
    this.server = undefined;
  }

  /** POST to n8n's internal REST API as the editor does (e.g. /owner/setup, /credentials/test). */
  async rest(p: string, body: unknown, cookie = ''): Promise<{ status: number; cookie: string; json: any }> {
    const res = await fetch(`${this.url}/rest${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'browser-id': 'corofy-e2e', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, cookie: res.headers.get('set-cookie')?.split(';')[0] ?? '', json: (await res.json()) as any };
  }

  /** The owner account (n8n asks for one before its REST API answers). Returns the session cookie. */
  readonly owner = { email: 'owner@corofy.e2e.test', password: `Pw-${randomBytes(8).toString('hex')}A1` };

  async setupOwner(): Promise<string> {
    // the REST routes answer a little after /healthz
    return await waitFor('n8n owner setup', async () => {
      const owner = await this.rest('/owner/setup', { ...this.owner, firstName: 'Olga', lastName: 'Operator' });
      return owner.status === 200 ? owner.cookie : undefined;
    }, 120_000);
  }
}
