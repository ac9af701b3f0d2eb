// Copies node and credential icons, and the nodes' codex files (<Name>.node.json),
// next to the compiled code in dist/, where n8n looks for them.
const { src, dest } = require('gulp');

function buildIcons() {
  return src(['nodes/**/*.{png,svg}', 'nodes/**/*.node.json', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false }).pipe(dest('dist'));
}

exports['build:icons'] = buildIcons;
