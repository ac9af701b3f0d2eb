import { createRoute } from '@hono/zod-openapi';
import type { AppDeps } from '../app/deps';
import { createRouter } from '../app/router';
import { problemResponses } from '../app/problems';
import { CatalogInputSchema, CatalogSchema, type Product } from './catalog';

const getCatalog = createRoute({
  method: 'get',
  path: '/v1/catalog',
  tags: ['catalog'],
  summary: 'The product catalog the composer pitches from',
  responses: {
    200: { description: 'The catalog, in order', content: { 'application/json': { schema: CatalogSchema } } },
    ...problemResponses,
  },
});

const putCatalog = createRoute({
  method: 'put',
  path: '/v1/catalog',
  tags: ['catalog'],
  summary: 'Replace the whole catalog (order matters: the first matching product wins)',
  request: { body: { required: true, content: { 'application/json': { schema: CatalogInputSchema } } } },
  responses: {
    200: { description: 'The catalog as stored', content: { 'application/json': { schema: CatalogSchema } } },
    ...problemResponses,
  },
});

export function catalogRoutes({ db }: AppDeps) {
  return createRouter()
    .openapi(getCatalog, async (c) => c.json(await db.call<{ products: Product[] }>('get_catalog'), 200))
    .openapi(putCatalog, async (c) => {
      const { products } = c.req.valid('json');
      return c.json(await db.call<{ products: Product[] }>('replace_catalog', { p_products: products }), 200);
    });
}
