// The SSRF policy for URLs users give us (webhook callbacks, calendar feeds): http(s) only, no
// credentials in the URL, and only public addresses (src/domain/public-address.ts), unless the
// deployment names the host in OUTBOUND_ALLOWED_HOSTS.
//
// The policy is applied twice: once when a URL is given (checkUrl, for a clear 400), and again by
// the outbound HTTP client on the address each connection actually dials (checkAddress and
// lookup, used by src/adapters/outbound-http.ts), which is the check that matters: DNS answers
// change, and redirects lead elsewhere.
//
// What a refusal says never includes the address a name resolved to, nor anything that depends on
// what listens there: the reason is the same for "resolves to 10.0.0.5" and for "does not
// resolve", so the guard tells a user nothing about the private network behind it.
import { promises as dns, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isIpAddress, judgeAddress } from '../domain/public-address.ts';

export { isPublicAddress } from '../domain/public-address.ts';

export type GuardResult = { ok: true } | { ok: false; reason: string };

/** Resolves a host name to all of its addresses (dns.lookup with all: true). Tests inject one. */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolveHost: ResolveHost = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** The reason given for any host that does not lead to a public address. */
export const NOT_PUBLIC_REASON = 'must lead to a public address (its host is not public, or does not resolve)';

/** The guard refused to let a connection be made; `code` lets it cross undici and net unchanged. */
export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKED';
  /** For logs only: the refused address and why. Never put into a message a user can read. */
  readonly detail: string;

  constructor(detail: string) {
    super('the outbound guard refused the address (not public)');
    this.name = 'BlockedAddressError';
    this.detail = detail;
  }
}

function bareHost(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  // `example.com.` and `example.com` are one host.
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

export class OutboundGuard {
  readonly #allowedHosts: ReadonlySet<string>;
  readonly #resolve: ResolveHost;

  constructor(allowedHosts: readonly string[], options: { resolveHost?: ResolveHost } = {}) {
    this.#allowedHosts = new Set(allowedHosts.map(bareHost));
    this.#resolve = options.resolveHost ?? systemResolveHost;
  }

  /** Hosts named in OUTBOUND_ALLOWED_HOSTS, by the name in the URL (not by address). */
  isHostAllowed(hostname: string): boolean {
    return this.#allowedHosts.has(bareHost(hostname));
  }

  /** The verdict on one address a connection to `host` would dial. */
  checkAddress(host: string, address: string): GuardResult {
    if (this.isHostAllowed(host)) return { ok: true };
    return judgeAddress(address).isPublic ? { ok: true } : { ok: false, reason: NOT_PUBLIC_REASON };
  }

  /** Checks a URL when it is given: scheme, credentials, and every address its host resolves to. */
  async checkUrl(url: string): Promise<GuardResult> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, reason: 'is not a valid URL' };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, reason: 'must be http or https' };
    if (parsed.username || parsed.password) return { ok: false, reason: 'must not carry credentials' };
    const host = bareHost(parsed.hostname);
    if (this.isHostAllowed(host)) return { ok: true };
    if (isIpAddress(host)) return this.checkAddress(host, host);
    let addresses: LookupAddress[];
    try {
      addresses = await this.#resolve(host);
    } catch {
      return { ok: false, reason: NOT_PUBLIC_REASON };
    }
    // Every address must be public: a name answering with one public and one private address
    // could be dialled on either.
    if (addresses.length === 0 || addresses.some((a) => !judgeAddress(a.address).isPublic)) return { ok: false, reason: NOT_PUBLIC_REASON };
    return { ok: true };
  }

  /**
   * A dns.lookup replacement for net.connect and tls.connect: the check runs on the very
   * addresses the socket will dial, so a name that resolved publicly when it was stored and
   * privately now (DNS rebinding) is refused. Node calls it only for names, never for an IP
   * literal (https://github.com/nodejs/node/pull/1505): literals are checked by the connector.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    this.#resolve(hostname).then((all) => {
      const addresses = family === 0 ? all : all.filter((a) => a.family === family);
      if (addresses.length === 0) {
        const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        error.code = 'ENOTFOUND';
        callback(error, '', 0);
        return;
      }
      if (!this.isHostAllowed(hostname)) {
        const refused = addresses.find((a) => !judgeAddress(a.address).isPublic);
        if (refused) {
          callback(new BlockedAddressError(`${hostname} resolves to ${refused.address} (${(judgeAddress(refused.address) as { range: string }).range})`), '', 0);
          return;
        }
      }
      if (options.all === true) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    }, (error: NodeJS.ErrnoException) => callback(error, '', 0));
  };
}
