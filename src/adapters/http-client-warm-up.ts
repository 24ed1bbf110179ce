// The first request a process makes through undici pays for the client's first use: its code runs
// unoptimised and its HTTP parser (WebAssembly) is compiled, once per process. Measured on the
// benchmark machine, the first request took 18.5-19 ms and one after any earlier use 6.5-7.5 ms
// (docs/performance.md, "First launch"). Without this, the first burst after a start (a deploy or
// a crash just before the top of the hour) pays that on its first launches; every later burst
// never did. So at start-up the client is used twice against this process's own /healthz: nothing
// is sent to a runtime, a provider or a calendar that did not ask for it.
import { isIPv6, type AddressInfo } from 'node:net';
import { Pool } from 'undici';

/**
 * Two GETs of `path` on this process's own listener through undici, within `timeoutMs` for both.
 * Resolves whether they were answered; never throws (the service works the same without it).
 */
export async function warmUpHttpClient(listener: AddressInfo, path: string, timeoutMs = 2000): Promise<boolean> {
  const url = ownUrl(listener, path);
  if (!url) return false;
  const deadline = AbortSignal.timeout(timeoutMs);
  const pool = new Pool(url.origin, { connections: 1, connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    for (let i = 0; i < 2; i++) {
      const response = await pool.request({ path: `${url.pathname}${url.search}`, method: 'GET', headers: { 'user-agent': 'rollcall-warm-up' }, signal: deadline });
      await response.body.dump();
    }
    return true;
  } catch {
    return false;
  } finally {
    await pool.destroy().catch(() => {});
  }
}

/**
 * A URL of the listener: a wildcard address is reached through loopback. Null for an address a
 * URL cannot name (an IPv6 address with a zone, `fe80::1%eth0`).
 */
export function ownUrl(listener: AddressInfo, path: string): URL | null {
  const host = listener.address === '0.0.0.0' ? '127.0.0.1' : listener.address === '::' ? '::1' : listener.address;
  try {
    return new URL(path, `http://${isIPv6(host) ? `[${host}]` : host}:${listener.port}`);
  } catch {
    return null;
  }
}
