// The first request a process makes through undici pays for the client's first use: its code runs
// unoptimised and its HTTP parser (WebAssembly) is compiled, once per process. Measured on the
// benchmark machine, the first request took 18.5-19 ms and one after any earlier use 6.5-7.5 ms
// (docs/performance.md, "First launch"). Without this, the first burst after a start (a deploy or
// a crash just before the top of the hour) pays that on its first launches; every later burst
// never did. So at start-up the client is used twice against this process's own /healthz: nothing
// is sent to a runtime, a provider or a calendar that did not ask for it.
import { Pool } from 'undici';

/** Resolves after two GETs of `url` through undici, or after `timeoutMs`; never throws. */
export async function warmUpHttpClient(url: URL, timeoutMs = 2000): Promise<boolean> {
  const pool = new Pool(url.origin, { connections: 1, connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    for (let i = 0; i < 2; i++) {
      const response = await pool.request({ path: `${url.pathname}${url.search}`, method: 'GET', headers: { 'user-agent': 'rollcall-warm-up' }, signal: AbortSignal.timeout(timeoutMs) });
      await response.body.dump();
    }
    return true;
  } catch {
    // Only a warm-up: the service works the same without it.
    return false;
  } finally {
    await pool.destroy().catch(() => {});
  }
}
