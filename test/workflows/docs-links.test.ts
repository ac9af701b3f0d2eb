// Every "Docs" link the editor shows (a node's codex, the credential's
// documentationUrl) leads to a heading that exists in the README.
import fs from 'node:fs';
import path from 'node:path';
import { CorofyApi } from '../../credentials/CorofyApi.credentials';

const REPO = path.resolve(__dirname, '../..');
const README_URL = 'https://github.com/corofy/corofy';

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    out.add(
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return out;
}

const readme = anchors(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8'));
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { n8n: { nodes: string[] } };
const codexFiles = pkg.n8n.nodes.map((dist) => path.join(REPO, dist.replace(/^dist\//, '').replace(/\.js$/, '.json')));

test.each(codexFiles.map((f) => [path.basename(f), f]))('%s: its docs link is a README heading', (_name, file) => {
  const codex = JSON.parse(fs.readFileSync(file, 'utf8')) as { resources: { primaryDocumentation: Array<{ url: string }> } };
  for (const { url } of codex.resources.primaryDocumentation) {
    expect(url.startsWith(`${README_URL}#`)).toBe(true);
    expect(readme).toContain(url.slice(README_URL.length + 1));
  }
});

test('no codex lists the "AI" category, which hides a community node from the picker', () => {
  for (const file of codexFiles) {
    expect((JSON.parse(fs.readFileSync(file, 'utf8')) as { categories: string[] }).categories).not.toContain('AI');
  }
});

test('the credential’s docs link is a README heading', () => {
  const url = new CorofyApi().documentationUrl;
  expect(url.startsWith(`${README_URL}#`)).toBe(true);
  expect(readme).toContain(url.slice(README_URL.length + 1));
});
