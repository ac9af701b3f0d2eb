// TEST SUPPORT, NOT PRODUCT: a tiny PostgREST-compatible RPC endpoint so the
// supabase-js transport is exercised for real (supabase-js → HTTP → SQL) without
// a Supabase project. It answers only what supabase-js's `rpc()` sends:
// POST /rest/v1/rpc/<fn> with a JSON object of named arguments, and replies like
// PostgREST: the function's JSON result (an array of rows for a set-returning
// function), or an error object with status 4xx.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ShimQuery = (text: string, values: unknown[]) => Promise<{ rows: { result: unknown }[] }>;

export interface PostgrestShim {
  url: string;
  /** How many RPC calls arrived, and with which api keys (to check the key is sent). */
  calls: { fn: string; apikey: string | undefined }[];
  close(): Promise<void>;
}

export async function startPostgrestShim(query: ShimQuery, serviceRoleKey: string): Promise<PostgrestShim> {
  const calls: PostgrestShim['calls'] = [];
  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const m = /^\/rest\/v1\/rpc\/([a-z_][a-z0-9_]*)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return send(404, { code: 'PGRST000', message: 'not an rpc call' });
    const apikey = req.headers.apikey as string | undefined;
    calls.push({ fn: m[1]!, apikey });
    if (apikey !== serviceRoleKey || req.headers.authorization !== `Bearer ${serviceRoleKey}`) {
      return send(401, { code: 'PGRST301', message: 'JWT invalid', details: null, hint: null });
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const args = (chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {}) as Record<string, unknown>;
    const names = Object.keys(args);
    if (names.some((n) => !/^[a-z_][a-z0-9_]*$/.test(n))) return send(400, { code: 'PGRST100', message: 'bad name' });
    const values = names.map((n) => {
      const v = args[n];
      return v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
    });
    const call = `public.${m[1]}(${names.map((n, i) => `${n} => $${i + 1}`).join(', ')})`;
    try {
      // like PostgREST: a set-returning function answers with the array of its rows
      const returnsSet = (
        await query(`select bool_or(proretset) as result from pg_proc where oid = to_regproc($1)`, [`public.${m[1]}`])
      ).rows[0]?.result;
      const sql = returnsSet
        ? `select coalesce(json_agg(result), '[]'::json) as result from ${call} as result`
        : `select ${call} as result`;
      const { rows } = await query(sql, values);
      send(200, rows[0]?.result ?? null);
    } catch (err) {
      const e = err as { code?: string; message?: string; detail?: string; hint?: string };
      // PostgREST answers a missing function with 404 PGRST202, other errors with 400.
      if (e.code === '42883') {
        return send(404, { code: 'PGRST202', message: `Could not find the function public.${m[1]}`, details: null, hint: null });
      }
      send(400, { code: e.code ?? 'XX000', message: e.message ?? 'error', details: e.detail ?? null, hint: e.hint ?? null });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
