import { promises as dns } from 'node:dns';
import net from 'node:net';

// The SSRF guard for company websites. A lead's website comes from Apollo or an
// import file, i.e. from outside: it is only ever scraped when it is a plain
// http(s) URL on an allowed port whose host resolves to public addresses only.
// (The guard applies to the target website, not to the Firecrawl API URL.)

/** Resolves a host name to IP addresses (injectable so tests need no network). */
export type HostResolver = (host: string) => Promise<string[]>;

export const systemResolver: HostResolver = async (host) =>
  (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** A resolver that answers from a static map first (COROFY_DNS_OVERRIDES), then asks `fallback`. */
export function resolverWithOverrides(overrides: Record<string, string[]>, fallback = systemResolver): HostResolver {
  return async (host) => overrides[host.toLowerCase()] ?? fallback(host);
}

export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError';
}

export interface SafeUrlOptions {
  resolve?: HostResolver;
  allowedPorts?: number[];
}

/**
 * Turns a lead's website or domain into a URL that is safe to scrape, or throws
 * UnsafeUrlError saying why not. A bare host ("acme.com") becomes https://acme.com.
 */
export async function safePublicUrl(input: string, options: SafeUrlOptions = {}): Promise<URL> {
  const resolve = options.resolve ?? systemResolver;
  const allowedPorts = options.allowedPorts ?? [80, 443];
  const raw = input.trim();
  if (raw === '' || /[\s\u0000-\u001f\\]/.test(raw)) throw new UnsafeUrlError('the address contains spaces or control characters');

  const hasScheme = /^[a-z][a-z0-9+.-]*:/i.test(raw) && !/^[^:/]+:\d+(\/|$)/.test(raw);
  let url: URL;
  try {
    url = new URL(hasScheme ? raw : `https://${raw}`);
  } catch {
    throw new UnsafeUrlError('the address is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UnsafeUrlError(`the scheme "${url.protocol.replace(/:$/, '')}" is not allowed (only http and https)`);
  }
  if (url.username || url.password) throw new UnsafeUrlError('URLs with credentials are not allowed');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (!allowedPorts.includes(port)) throw new UnsafeUrlError(`port ${port} is not allowed`);

  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === '') throw new UnsafeUrlError('the URL has no host');
  let addresses: string[];
  if (net.isIP(host)) {
    addresses = [host];
  } else {
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+\.?$/.test(host)) {
      throw new UnsafeUrlError(`"${host}" is not a public host name`);
    }
    try {
      addresses = await resolve(host);
    } catch {
      throw new UnsafeUrlError(`"${host}" does not resolve`);
    }
    if (addresses.length === 0) throw new UnsafeUrlError(`"${host}" does not resolve`);
  }
  for (const address of addresses) {
    const why = nonPublicReason(address);
    if (why) throw new UnsafeUrlError(`"${host}" resolves to ${address} (${why})`);
  }
  url.hash = '';
  return url;
}

/** Why an IP address is not a public unicast address, or undefined when it is. */
export function nonPublicReason(address: string): string | undefined {
  const kind = net.isIP(address);
  if (kind === 4) return ipv4Reason(parseIpv4(address));
  if (kind === 6) return ipv6Reason(address);
  return 'not an IP address';
}

function parseIpv4(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

const IPV4_BLOCKS: [string, number, string][] = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function ipv4Reason(n: number): string | undefined {
  for (const [base, bits, why] of IPV4_BLOCKS) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if (((n & mask) >>> 0) === ((parseIpv4(base) & mask) >>> 0)) return why;
  }
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (an embedded dotted IPv4 tail expanded). */
function ipv6Groups(address: string): number[] {
  let a = address.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const n = parseIpv4(v4[1]!);
    a = a.slice(0, -v4[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':').filter((x) => x !== '') : [];
  const t = tail ? tail.split(':').filter((x) => x !== '') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

function ipv6Reason(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (g.length !== 8 || g.some((x) => Number.isNaN(x))) return 'not an IP address';
  const embeddedV4 = ((g[6]! << 16) >>> 0) + g[7]!;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return 'unspecified';
  if (zeros(0, 7) && g[7] === 1) return 'loopback';
  if (zeros(0, 5) && g[5] === 0xffff) return `IPv4-mapped (${ipv4Reason(embeddedV4) ?? 'mapped addresses are refused'})`;
  if (zeros(0, 6)) return 'IPv4-compatible';
  if (g[0] === 0x64 && g[1] === 0xff9b) return `NAT64 (${ipv4Reason(embeddedV4) ?? 'translated addresses are refused'})`;
  if (g[0] === 0x2002) return '6to4';
  if (g[0] === 0x2001 && g[1] === 0) return 'Teredo';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation';
  if (g[0] === 0x100 && zeros(1, 4)) return 'discard-only';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique local (ULA)';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'site-local';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}
