// `npm run check:imports` (part of `npm test`): no module may reach itself
// through its imports, type-only imports included, in the service, the nodes,
// the credentials and the sandbox; and the service never imports the sandbox
// (the sandbox starts the service, not the other way round). Nothing else is
// judged here.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: split the shared part into a module both sides import (see app/router.ts).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'service-not-sandbox',
      severity: 'error',
      comment: 'The service ships without sandbox/: sandbox/main.ts starts the fakes and then the service.',
      from: { path: '^service/src/' },
      to: { path: '^sandbox/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports count: a cycle through types is still a cycle a reader must untangle
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'service/tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.json'] },
  },
};
