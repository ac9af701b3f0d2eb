import { z } from '@hono/zod-openapi';
import type { Logger } from '../app/logger';
import type { Database } from '../db/database';

// The product catalog: data, not a prompt string. A lead's industry picks the
// product; keywords help the AI map a company website to one.

import defaultCatalog from './default-catalog.json';

/** The readable default catalog (default-catalog.json), seeded on a new database. */
export const DEFAULT_CATALOG: { products: unknown[] } = defaultCatalog;

const term = z.string().trim().min(1).max(100).transform((v) => v.toLowerCase());

export const ProductInputSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be 1-63 lower-case letters, digits, ".", "_" or "-"'),
    industries: z.array(term).max(50).default([]),
    keywords: z.array(term).max(100).default([]),
    product: z.string().trim().min(1).max(200),
    pitch: z.string().trim().min(1).max(2000),
  })
  .strict()
  .openapi('ProductInput');

export const CatalogInputSchema = z
  .object({
    products: z
      .array(ProductInputSchema)
      .max(500)
      .superRefine((products, ctx) => {
        const seen = new Map<string, number>();
        products.forEach((p, i) => {
          const first = seen.get(p.id);
          if (first !== undefined) {
            ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `"${p.id}" is used twice (also at products.${first})` });
          } else {
            seen.set(p.id, i);
          }
        });
      }),
  })
  .strict()
  .openapi('CatalogInput');

export const ProductSchema = z
  .object({
    id: z.string(),
    industries: z.array(z.string()),
    keywords: z.array(z.string()),
    product: z.string(),
    pitch: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Product');

export const CatalogSchema = z.object({ products: z.array(ProductSchema) }).openapi('Catalog');

export type Product = z.infer<typeof ProductSchema>;
export type CatalogInput = z.infer<typeof CatalogInputSchema>;

/** Seeds the default catalog on a database's first start (no-op afterwards). */
export async function seedDefaultCatalog(db: Database, logger: Logger, catalog = DEFAULT_CATALOG): Promise<void> {
  const parsed = CatalogInputSchema.parse({ products: catalog.products });
  const r = await db.call<{ seeded: boolean; products?: number }>('seed_catalog', { p_products: parsed.products });
  if (r.seeded) logger.info({ products: r.products }, 'seeded the default product catalog');
}

function words(value: string): string {
  return ` ${value.toLowerCase().replace(/[^a-z0-9&]+/g, ' ').trim()} `;
}

/** The first product one of whose industries appears (as whole words) in the lead's industry. */
export function matchIndustry(catalog: Product[], industry: string | undefined | null): Product | undefined {
  if (!industry) return undefined;
  const haystack = words(industry);
  return catalog.find((p) => p.industries.some((i) => words(i).trim() !== '' && haystack.includes(words(i))));
}
