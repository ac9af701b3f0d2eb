import type { Context, TypedResponse } from 'hono';

/**
 * Sends JSON the database already wrote as text, as it is: parsing a claim of
 * 400 leads only to serialise it again cost the service about as much as the
 * claim itself. Typed as the route's response schema T, which the SQL
 * function's answer is (its tests compare the two).
 */
export function jsonText<T, S extends 200 | 201>(c: Context, text: string, status: S): TypedResponse<T, S, 'json'> {
  return c.body(text, status, { 'content-type': 'application/json' }) as unknown as TypedResponse<T, S, 'json'>;
}
