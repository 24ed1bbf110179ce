// Which IP addresses count as public: the one rule behind every outbound address check (the
// connect-time guard, the check of a URL when it is given, and the meeting URL check).
//
// Public means globally reachable unicast. The rule is an allow-list, not a block-list: an IPv4
// address is public only if it lies in no special-purpose block, and an IPv6 address only if it
// lies in the global unicast space 2000::/3 (the only space IANA allocates from; see the "IPv6
// Address Space" registry, https://www.iana.org/assignments/ipv6-address-space) and in no
// special-purpose block there. The blocks are ipaddr.js's tables, which follow the IANA
// special-purpose registries (https://www.iana.org/assignments/iana-ipv4-special-registry and
// https://www.iana.org/assignments/iana-ipv6-special-registry).
//
// IPv6 forms that carry an IPv4 address are judged by that IPv4 address, because that is where
// the packets end up:
// - IPv4-mapped ::ffff:a.b.c.d: a dual-stack socket connects to a.b.c.d itself (RFC 4291 2.5.5.2);
// - NAT64 64:ff9b::a.b.c.d: a translator forwards to a.b.c.d (RFC 6052 2.1);
// - 6to4 2002:AABB:CCDD::/48: a relay tunnels to AA.BB.CC.DD (RFC 3056 2).
// Forms refused outright, whatever they carry:
// - IPv4-compatible ::a.b.c.d (deprecated by RFC 4291 2.5.5.1; outside 2000::/3, and some stacks
//   still route it to a.b.c.d over a tunnel), which covers ::7f00:1 and ::a9fe:a9fe;
// - NAT64 local-use 64:ff9b:1::/48 (RFC 8215: never globally reachable);
// - Teredo 2001::/32 (RFC 4380): the client's IPv4 address is stored obfuscated and the server's
//   can be anything; no receiver we must reach lives on a Teredo address, so none is allowed.
// - SIIT ::ffff:0:a.b.c.d (RFC 6145) and every other special block in ipaddr.js's tables
//   (documentation, benchmarking, ORCHID, AS112, AMT, segment routing, discard, site-local).
//
// Parsing is ipaddr.js's, which also reads the legacy IPv4 spellings (`127.1`, `0x7f.1`,
// `2130706433`, octal `0177.0.0.1`) as inet_aton and the WHATWG URL parser do, so a spelling never
// decides the verdict. Host names are not addresses: they are never public here.
import ipaddr from 'ipaddr.js';

/** Why an address is not public, or 'public'. Names come from ipaddr.js's range tables. */
export type AddressVerdict = { isPublic: true } | { isPublic: false; range: string };

const GLOBAL_UNICAST: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('2000::'), 3];
const NAT64_WELL_KNOWN: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('64:ff9b::'), 96];

const DOTTED_TAIL = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Brackets (as in a URL) are not part of the address. An IPv6 address written with a dotted IPv4
 * tail is rewritten to hex first: ipaddr.js reads `::a.b.c.d` as if it were `::ffff:a.b.c.d`,
 * which would judge an IPv4-compatible address (glibc prints them that way) as IPv4-mapped.
 */
function bareAddress(address: string): string {
  const trimmed = address.trim();
  const bare = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  const dotted = DOTTED_TAIL.exec(bare);
  if (!dotted) return bare;
  const octets = dotted.slice(2, 6).map(Number);
  if (octets.some((octet) => octet > 255)) return bare;
  const hex = (high: number, low: number) => ((high << 8) | low).toString(16);
  return `${dotted[1]}${hex(octets[0]!, octets[1]!)}:${hex(octets[2]!, octets[3]!)}`;
}

function ipv4FromParts(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function judgeIpv4(address: ipaddr.IPv4): AddressVerdict {
  const range = address.range();
  return range === 'unicast' ? { isPublic: true } : { isPublic: false, range };
}

/** An IPv6 form that carries an IPv4 address is as public as that address. */
function judgeEmbedded(form: string, inner: ipaddr.IPv4): AddressVerdict {
  const verdict = judgeIpv4(inner);
  return verdict.isPublic ? verdict : { isPublic: false, range: `${form}(${verdict.range})` };
}

function judgeIpv6(address: ipaddr.IPv6): AddressVerdict {
  const range = address.range();
  const parts = address.parts;
  switch (range) {
    case 'ipv4Mapped':
      return judgeEmbedded(range, address.toIPv4Address());
    case 'rfc6052':
      return address.match(NAT64_WELL_KNOWN)
        ? judgeEmbedded('nat64', ipv4FromParts(parts[6]!, parts[7]!))
        : { isPublic: false, range: 'nat64LocalUse' };
    case '6to4':
      return judgeEmbedded(range, ipv4FromParts(parts[1]!, parts[2]!));
    case 'unicast':
      break;
    default:
      return { isPublic: false, range };
  }
  // ipaddr.js calls everything outside its special tables 'unicast', including ::/96 and space
  // IANA has never allocated; only 2000::/3 is global unicast.
  if (parts.slice(0, 6).every((part) => part === 0)) return { isPublic: false, range: 'ipv4Compatible' };
  if (!address.match(GLOBAL_UNICAST)) return { isPublic: false, range: 'unallocated' };
  return { isPublic: true };
}

/** The verdict on one IP address; anything that is not an IP address is not public. */
export function judgeAddress(address: string): AddressVerdict {
  const bare = bareAddress(address);
  if (!ipaddr.isValid(bare)) return { isPublic: false, range: 'not an IP address' };
  const parsed = ipaddr.parse(bare);
  return parsed.kind() === 'ipv4' ? judgeIpv4(parsed as ipaddr.IPv4) : judgeIpv6(parsed as ipaddr.IPv6);
}

/** Only globally reachable unicast addresses are public. */
export function isPublicAddress(address: string): boolean {
  return judgeAddress(address).isPublic;
}

/** True for an IP address in any spelling ipaddr.js reads (a URL host is already normalised). */
export function isIpAddress(host: string): boolean {
  // A character no IP spelling uses (any letter past f but x) settles it without ipaddr.js's
  // parsers: this runs for the host of every meeting link scheduled.
  if (/[^0-9a-fA-FxX.:[\]%]/.test(host)) return false;
  return ipaddr.isValid(bareAddress(host));
}
