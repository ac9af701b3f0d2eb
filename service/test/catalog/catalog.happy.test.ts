import { DEFAULT_CATALOG } from '../../src/catalog/catalog';
import { startTestService, type TestService } from '../support/test-service';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

let database: TestDatabase;
let svc: TestService;
beforeAll(async () => {
  database = await createTestDatabase();
  svc = await startTestService({}, database);
});
afterAll(async () => {
  await svc?.stop();
  await database?.drop();
});

test('a new database starts with the default catalog, including the seed rule lubricants → additives', async () => {
  const r = await svc.api('GET', '/v1/catalog');
  expect(r.status).toBe(200);
  const ids = (DEFAULT_CATALOG.products as { id: string }[]).map((p) => p.id);
  expect(r.body.products.map((p: { id: string }) => p.id)).toEqual(ids);
  const lubes = r.body.products.find((p: { industries: string[] }) => p.industries.includes('lubricants'));
  expect(lubes).toMatchObject({ id: 'lubricant-additives', product: 'Lubricant additives' });
  expect(lubes.pitch.length).toBeGreaterThan(20);
});

test('PUT replaces the whole catalog in order, lower-casing industries and keywords; a restart does not re-seed it', async () => {
  const products = [
    { id: 'b-second', industries: ['Automotive'], keywords: ['Car Wash'], product: 'Car care concentrates', pitch: 'Shine with less water.' },
    { id: 'a-first', industries: ['Lubricants'], product: 'Premium additives', pitch: 'Longer drain intervals.' },
  ];
  const put = await svc.api('PUT', '/v1/catalog', { products });
  expect(put.status).toBe(200);
  expect(put.body.products).toEqual([
    expect.objectContaining({ id: 'b-second', industries: ['automotive'], keywords: ['car wash'] }),
    expect.objectContaining({ id: 'a-first', industries: ['lubricants'], keywords: [] }),
  ]);

  await svc.stop();
  svc = await startTestService({}, database);
  const after = await svc.api('GET', '/v1/catalog');
  expect(after.body.products.map((p: { id: string }) => p.id)).toEqual(['b-second', 'a-first']);

  // An operator's empty catalog stays empty too.
  expect((await svc.api('PUT', '/v1/catalog', { products: [] })).body.products).toEqual([]);
  await svc.stop();
  svc = await startTestService({}, database);
  expect((await svc.api('GET', '/v1/catalog')).body.products).toEqual([]);
});
