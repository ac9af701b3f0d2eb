import { startTestService, type TestService } from '../support/test-service';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
});
afterAll(async () => svc?.stop());

const ok = { id: 'x', industries: ['a'], keywords: [], product: 'X', pitch: 'Y' };

test.each([
  ['duplicate ids', { products: [ok, { ...ok }] }, /products\.1\.id/],
  ['a bad id', { products: [{ ...ok, id: 'Has Spaces' }] }, /products\.0\.id/],
  ['a missing pitch', { products: [{ id: 'x', product: 'X' }] }, /products\.0\.pitch/],
  ['an unknown field', { products: [{ ...ok, price: 3 }] }, /products\.0/],
  ['no products array', {}, /products/],
])('PUT with %s is a 400 that leaves the catalog unchanged', async (_what, body, path) => {
  const before = (await svc.api('GET', '/v1/catalog')).body;
  const r = await svc.api('PUT', '/v1/catalog', body);
  expect(r.status).toBe(400);
  expect(r.body.code).toBe('validation_failed');
  expect(JSON.stringify(r.body.errors)).toMatch(path);
  expect((await svc.api('GET', '/v1/catalog')).body).toEqual(before);
});

test('the catalog needs the API key', async () => {
  const r = await svc.api('GET', '/v1/catalog', undefined, { authorization: 'Bearer wrong-key-wrong-key-wrong' });
  expect(r.status).toBe(401);
  expect((await svc.api('PUT', '/v1/catalog', { products: [] }, { authorization: '' })).status).toBe(401);
});
