// The node pack as an operator meets it: a real n8n (2.40.7, the e2e cache) with
// the packed package installed as a community package, the shipped workflows and
// credentials imported, the service running (embedded PGlite), and Debian's
// Chromium driven by playwright-core. Checks what a new user would check:
//   - sign in;
//   - the node picker finds each of our nodes by its display name;
//   - each shipped workflow opens with no warning other than missing credentials,
//     and none once the credentials are picked (by opening each node's panel);
//   - the credential test's banner says our sentence for a wrong key and for a
//     Base URL where nothing listens.
// Screenshots of each canvas and each node's panel go to test/artifacts/editor/.
// Prints one JSON report; exits non-zero on any failure.
//
//   node --import tsx test/e2e/editor.ts        (npm run test:e2e:editor)
//
// Environment: COROFY_E2E_CACHE (where n8n is installed once), CHROMIUM (default
// /usr/bin/chromium), E2E_KEEP=1 keeps the temporary folder.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { E2eRun, freePort, N8n, REPO, startService } from './support/harness';

const ARTIFACTS = path.join(REPO, 'test/artifacts/editor');
const WORKFLOWS = [
  { file: 'daily-pipeline.json', id: 'CorofyDailyPipe1' },
  { file: 'queue-drain.json', id: 'CorofyQueueDrain' },
  { file: 'replies.json', id: 'CorofyReplyHook1' },
];

const e2e = E2eRun.start('editor');
const report = e2e.report;
const check = (name: string, ok: boolean, detail?: unknown) => e2e.check(name, ok, detail);
const log = (msg: string) => e2e.log(msg);

/** Our nodes as the package declares them: display name and type, from the built code. */
function packageNodes(): Array<{ displayName: string; type: string }> {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { n8n: { nodes: string[] } };
  return pkg.n8n.nodes.map((file) => {
    const mod = require(path.join(REPO, file)) as Record<string, new () => { description: { displayName: string; name: string } }>;
    const { description } = new (Object.values(mod)[0]!)();
    return { displayName: description.displayName, type: `n8n-nodes-corofy.${description.name}` };
  });
}

type NodeIssues = Record<string, unknown>;

/** What the canvas shows: each node's issues as the editor's workflow store holds them. */
async function canvasIssues(page: Page, workflowId: string): Promise<{ store: Record<string, NodeIssues>; icons: string[] }> {
  const store = await page.evaluate((id) => {
    const pinia = (document.querySelector('#app') as any).__vue_app__.config.globalProperties.$pinia;
    const doc = pinia._s.get(`workflowDocuments/${id}@latest`);
    const out: Record<string, unknown> = {};
    for (const node of doc?.workflow?.nodes ?? doc?.allNodes ?? []) {
      if (node.issues && Object.keys(node.issues).length > 0) out[node.name] = node.issues;
    }
    return out;
  }, workflowId);
  const icons = await page
    .locator('[data-test-id="canvas-node"]:has([data-test-id="node-issues"])')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-node-name') ?? ''));
  return { store: store as Record<string, NodeIssues>, icons: icons.sort() };
}

/** Only "credentials not set" issues, and an icon on the canvas for each node that has one. */
function onlyMissingCredentials(issues: { store: Record<string, NodeIssues>; icons: string[] }): boolean {
  const names = Object.keys(issues.store).sort();
  return (
    names.every((n) => {
      const i = issues.store[n]!;
      const credentials = i.credentials as Record<string, string[]> | undefined;
      return Object.keys(i).every((k) => k === 'credentials') && credentials !== undefined &&
        Object.values(credentials).flat().every((m) => /Credentials for .* are not set/.test(m));
    }) && JSON.stringify(names) === JSON.stringify(issues.icons)
  );
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();

async function openWorkflow(page: Page, base: string, id: string): Promise<void> {
  await page.goto(`${base}/workflow/${id}`);
  await page.locator('[data-test-id="canvas-node"]').first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1500); // the canvas fits the view after the nodes appear
}

async function main(): Promise<void> {
  const tmp = e2e.tmp;
  let lastPage: Page | undefined; // for a screenshot when something fails
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  try {
    const n8nAt = await N8n.prepare(e2e);
    report.n8nVersion = JSON.parse(fs.readFileSync(path.join(n8nAt.n8nDir, 'node_modules/n8n/package.json'), 'utf8')).version;
    const ourNodes = packageNodes();

    // The service on the embedded default, as a new user starts it.
    const service = await startService(e2e, {
      databaseUrl: '',
      env: { SUPABASE_URL: '', SUPABASE_SERVICE_ROLE_KEY: '', COROFY_DATA_DIR: path.join(tmp, 'corofy-data') },
    });
    const { url: serviceUrl, apiKey } = service;
    const base = n8nAt.url;

    // Credentials exist (as after "Create credential"); the workflows reference none,
    // exactly as shipped.
    const corofyCredential = { id: 'CorofyApiEditor1', name: 'Corofy API', type: 'corofyApi', data: { baseUrl: serviceUrl, apiKey } };
    const credentials = [
      corofyCredential,
      { id: 'SmtpEditorTest01', name: 'SMTP account', type: 'smtp', data: { user: '', password: '', host: '127.0.0.1', port: 25, secure: false } },
      { id: 'HookKeyEditor001', name: 'Corofy webhook key', type: 'httpHeaderAuth', data: { name: 'X-Corofy-Webhook-Key', value: randomBytes(12).toString('hex') } },
    ];
    const workflows = await n8nAt.importWorkflows({ credentials, workflows: WORKFLOWS.map(({ file }) => file) });

    log('starting n8n');
    await n8nAt.start();
    await n8nAt.setupOwner();
    const owner = n8nAt.owner;

    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    e2e.onCleanup(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    lastPage = page;
    page.setDefaultTimeout(60_000);

    // 1. sign in
    log('signing in');
    await page.goto(`${base}/signin`);
    // The first load compiles and fetches the whole editor: slow on a busy machine.
    await page.locator('input[name="emailOrLdapLoginId"]').waitFor({ timeout: 180_000 });
    await page.locator('input[name="emailOrLdapLoginId"]').fill(owner.email);
    await page.locator('input[name="password"]').fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/signin'), { timeout: 60_000 });
    check('signed in through the sign-in form', true);

    // 2. the node picker finds each node by its display name
    log('node picker');
    await page.goto(`${base}/workflow/new`);
    await page.locator('[data-test-id="canvas-plus-button"]').first().click();
    const search = page.locator('[data-test-id="node-creator-search-bar"] input, input[data-test-id="node-creator-search-bar"]').first();
    const found: Record<string, string[]> = {};
    for (const node of ourNodes) {
      await search.fill(node.displayName);
      const names = page.locator('[data-test-id="node-creator-item-name"]');
      await names.first().waitFor().catch(() => undefined);
      await page.waitForTimeout(500);
      found[node.displayName] = (await names.allTextContents()).map((t) => t.trim());
      await page.screenshot({ path: path.join(ARTIFACTS, `picker-${safe(node.displayName)}.png`) });
    }
    report.picker = found;
    // n8n's picker shows a node and its "<Name> Trigger" as one entry under the
    // app's name (Corofy Trigger is listed as "Corofy", which opens to its
    // actions and triggers), so a trigger of ours is found when its app is.
    const listedAs = (name: string) => (name.endsWith(' Trigger') ? [name, name.slice(0, -' Trigger'.length)] : [name]);
    for (const node of ourNodes) {
      const shown = found[node.displayName]!;
      check(`node picker: "${node.displayName}" is found by its name`, listedAs(node.displayName).some((n) => shown.includes(n)), shown);
    }

    // 3. each workflow: only missing-credential warnings, then none once picked
    for (const { file, id } of WORKFLOWS) {
      log(`workflow ${file}`);
      await openWorkflow(page, base, id);
      await page.screenshot({ path: path.join(ARTIFACTS, `canvas-${safe(file)}-imported.png`) });
      const before = await canvasIssues(page, id);
      const needCredentials = (workflows.find((w) => w.id === id)!.nodes as Array<{ name: string; type: string }>)
        .filter((n) => n.type.startsWith('n8n-nodes-corofy.') || ['n8n-nodes-base.emailSend', 'n8n-nodes-base.webhook'].includes(n.type))
        .map((n) => n.name)
        .sort();
      check(`${file}: after import, only missing credentials are flagged, on the nodes that need one`,
        onlyMissingCredentials(before) && JSON.stringify(Object.keys(before.store).sort()) === JSON.stringify(needCredentials),
        { before, needCredentials });

      // Opening a node's panel picks the only credential of its type (and saves the workflow).
      const nodes = (workflows.find((w) => w.id === id)!.nodes as Array<{ name: string; type: string }>).filter(
        (n) => n.type !== 'n8n-nodes-base.stickyNote',
      );
      for (const node of nodes) {
        await page.locator(`[data-test-id="canvas-node"][data-node-name="${node.name}"]`).dblclick();
        await page.locator('[data-test-id="ndv-close-button"]').waitFor();
        await page.waitForTimeout(800);
        if (node.type.startsWith('n8n-nodes-corofy.') || needCredentials.includes(node.name)) {
          await page.screenshot({ path: path.join(ARTIFACTS, `panel-${safe(file)}-${safe(node.name)}.png`) });
        }
        await page.keyboard.press('Escape');
        await page.waitForTimeout(400);
      }
      await page.keyboard.press('Control+s');
      await page.waitForTimeout(1500);
      await openWorkflow(page, base, id);
      await page.screenshot({ path: path.join(ARTIFACTS, `canvas-${safe(file)}.png`) });
      const after = await canvasIssues(page, id);
      check(`${file}: no warning once the credentials are picked`, Object.keys(after.store).length === 0 && after.icons.length === 0, after);
    }

    // The daily pipeline in n8n's dark theme: every icon has a dark variant.
    await page.evaluate(() => localStorage.setItem('N8N_THEME', 'dark'));
    await openWorkflow(page, base, WORKFLOWS[0]!.id);
    await page.screenshot({ path: path.join(ARTIFACTS, 'canvas-daily-pipeline-dark.png') });
    await page.evaluate(() => localStorage.setItem('N8N_THEME', 'light'));

    // 4. the credential test's banner
    log('credential test banner');
    const dialog = page.locator('[data-test-id="credential-edit-dialog"]');
    const banner = async (name: string): Promise<{ headline: string; details: string; all: string }> => {
      const box = dialog.locator('.el-tag').filter({ hasText: /Couldn.t connect|tested successfully/ }).first();
      await box.waitFor({ timeout: 60_000 });
      const headline = (await box.innerText()).split('\n')[0]!.trim();
      const more = box.getByText('More details');
      if (await more.count()) await more.click();
      const all = (await box.innerText()).replace(/\s+/g, ' ').trim();
      await page.screenshot({ path: path.join(ARTIFACTS, `credential-${name}.png`) });
      return { headline, details: all.replace(headline, '').replace(/^\s*Retry\s*/, '').trim(), all };
    };
    const field = (label: string) => dialog.locator('[data-test-id="parameter-input-field"]').nth(label === 'Base URL' ? 0 : 1);
    const saveAndRead = async (name: string, values: { baseUrl?: string; apiKey?: string }) => {
      if (values.baseUrl !== undefined) await field('Base URL').fill(values.baseUrl);
      if (values.apiKey !== undefined) await field('API Key').fill(values.apiKey);
      await page.waitForTimeout(300);
      const tested = page.waitForResponse((r) => r.url().includes('/rest/credentials/test'), { timeout: 60_000 });
      await page.locator('[data-test-id="credential-save-button"]').click(); // in the dialog's header
      await tested;
      await page.waitForTimeout(500);
      return await banner(name);
    };
    const opened = page.waitForResponse((r) => r.url().includes('/rest/credentials/test'), { timeout: 60_000 });
    await page.goto(`${base}/home/credentials/${corofyCredential.id}`);
    await dialog.waitFor();
    await opened; // an existing credential is tested when its dialog opens
    const right = await banner('right-key');
    const wrongKey = await saveAndRead('wrong-key', { apiKey: 'not-the-key-0123456789' });
    const deadPort = await freePort();
    const nothing = await saveAndRead('nothing-listening', { baseUrl: `http://127.0.0.1:${deadPort}`, apiKey });
    const fixed = await saveAndRead('fixed', { baseUrl: serviceUrl, apiKey });
    report.credentialBanner = { right, wrongKey, nothing, fixed };
    check('credential: the right key tests successfully', /Connection tested successfully/.test(right.all), right);
    check('credential: a wrong key — the banner says the key is wrong and where the right one is',
      /Couldn.t connect/.test(wrongKey.headline) &&
        wrongKey.details.includes('The API key is wrong. Use the COROFY_API_KEY the service runs with (set in its environment).') &&
        !wrongKey.all.includes(apiKey),
      wrongKey);
    check('credential: nothing listening — the banner says no Corofy service answers at the URL',
      nothing.details.includes(`No Corofy service answers at http://127.0.0.1:${deadPort}`) && !/^ECONNREFUSED/.test(nothing.details),
      nothing);
    check('credential: fixed again, it tests successfully', /Connection tested successfully/.test(fixed.all), fixed);
  } catch (err) {
    await lastPage?.screenshot({ path: path.join(ARTIFACTS, 'failure.png') }).catch(() => undefined);
    throw err;
  } finally {
    report.screenshots = fs.readdirSync(ARTIFACTS).sort();
  }
}

void e2e.main(main);
