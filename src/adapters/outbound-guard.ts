// Guards every request to a URL a user gave us (callback URLs, calendar feeds): http(s) only, and
// no loopback, private, link-local, metadata or otherwise non-public address after DNS
// resolution, unless the deployment names the host in OUTBOUND_ALLOWED_HOSTS.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { promises as dns } from 'node:dns';
import ipaddr from 'ipaddr.js';

export type GuardResult = { ok: true } | { ok: false; reason: string };

export class OutboundGuard {
  readonly #allowedHosts: ReadonlySet<string>;

  constructor(allowedHosts: readonly string[]) {
    this.#allowedHosts = new Set(allowedHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
  }

  isHostAllowed(hostname: string): boolean {
    return this.#allowedHosts.has(hostname.toLowerCase().replace(/^\[|\]$/g, ''));
  }

  /** Checks a URL before it is stored: scheme, and every address its host resolves to. */
  async checkUrl(url: string): Promise<GuardResult> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, reason: 'is not a valid URL' };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, reason: 'must be http or https' };
    if (parsed.username || parsed.password) return { ok: false, reason: 'must not carry credentials' };
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (this.isHostAllowed(host)) return { ok: true };
    let addresses: string[];
    if (ipaddr.isValid(host)) {
      addresses = [host];
    } else {
      try {
        addresses = (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
      } catch {
        return { ok: false, reason: `host ${host} does not resolve` };
      }
    }
    const blocked = addresses.find((a) => !isPublicAddress(a));
    return blocked ? { ok: false, reason: `resolves to a non-public address (${blocked})` } : { ok: true };
  }

  /**
   * A dns.lookup replacement for http.Agent: the check happens on the very addresses the socket
   * connects to, so a DNS answer that changes between check and connect (rebinding) is caught.
   */
  readonly lookup = (hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      if (!this.isHostAllowed(hostname)) {
        const blocked = list.find((a) => !isPublicAddress(a.address));
        if (blocked) {
          const error: NodeJS.ErrnoException = new Error(`Refusing to connect to ${hostname}: non-public address ${blocked.address}`);
          error.code = 'EBLOCKED';
          return callback(error, []);
        }
      }
      const wantsAll = (options as { all?: boolean }).all === true;
      if (wantsAll) return callback(null, list);
      const first = list[0]!;
      return callback(null, first.address, first.family);
    });
  };
}

/** Only globally routable unicast addresses count as public. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}
