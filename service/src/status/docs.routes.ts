import fs from 'node:fs';
import path from 'node:path';
import { swaggerUI } from '@hono/swagger-ui';
import { createRouter } from '../app/router';

// API docs at /docs: Swagger UI (@hono/swagger-ui) rendering /openapi.json, with
// its script and stylesheet served by this service from swagger-ui-dist (no CDN:
// operators run Corofy on private networks).

const ASSET_BASE = '/docs/assets';
const SWAGGER_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

export function docsRoutes() {
  const router = createRouter();
  router.get('/docs', swaggerUI({ url: '/openapi.json', baseUrl: ASSET_BASE, title: 'Corofy API', persistAuthorization: false }));
  router.get(`${ASSET_BASE}/swagger-ui-dist/:file`, (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) return c.notFound();
    c.header('content-type', type);
    c.header('cache-control', 'public, max-age=86400');
    c.header('x-content-type-options', 'nosniff');
    return c.body(fs.readFileSync(path.join(SWAGGER_DIR, file)));
  });
  return router;
}
