import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { isIpAddress, isPublicAddress, judgeAddress } from './public-address.ts';

// The oracle is written here from the IANA registries, independently of ipaddr.js's tables that
// the module uses, and checked with Node's BlockList, so a gap in either shows up as a mismatch.
// IPv4: https://www.iana.org/assignments/iana-ipv4-special-registry, plus multicast (RFC 5771).
// The AS112 and AMT anycast blocks are globally reachable but serve no receiver of ours: refused.
const IPV4_NOT_PUBLIC: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.31.196.0', 24], ['192.52.193.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['192.175.48.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
// IPv6 inside the global unicast space 2000::/3 (https://www.iana.org/assignments/iana-ipv6-special-registry):
// 2001::/23 (IETF protocol assignments: Teredo, benchmarking, ORCHID, AMT, AS112 and the rest),
// documentation (2001:db8::/32, 3fff::/20) and the AS112 delegation block. 6to4 is judged by
// the IPv4 address it carries, below.
const IPV6_NOT_PUBLIC: [string, number][] = [['2001::', 23], ['2001:db8::', 32], ['2620:4f:8000::', 48], ['3fff::', 20]];

const v4List = new BlockList();
for (const [network, prefix] of IPV4_NOT_PUBLIC) v4List.addSubnet(network, prefix, 'ipv4');
const v6List = new BlockList();
for (const [network, prefix] of IPV6_NOT_PUBLIC) v6List.addSubnet(network, prefix, 'ipv6');

const ipv4Text = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
const ipv4Number = (text: string) => text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const ipv6Text = (n: bigint) => Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
const ipv6Number = (groups: number[]) => groups.reduce((n, g) => (n << 16n) | BigInt(g), 0n);

function oracleV4(n: number): boolean {
  return !v4List.check(ipv4Text(n), 'ipv4');
}

function oracleV6(n: bigint): boolean {
  const top16 = Number(n >> 112n);
  const embedded = Number(n & 0xffffffffn);
  if (n >> 32n === 0xffffn) return oracleV4(embedded); // ::ffff:a.b.c.d
  if (n >> 32n === ipv6Number([0x64, 0xff9b, 0, 0, 0, 0])) return oracleV4(embedded); // 64:ff9b::a.b.c.d
  if (top16 === 0x2002) return oracleV4(Number((n >> 80n) & 0xffffffffn)); // 2002:AABB:CCDD::
  if (top16 >> 13 !== 0b001) return false; // outside 2000::/3
  return !v6List.check(ipv6Text(n), 'ipv6');
}

describe('which addresses are public', () => {
  test('spellings of loopback, metadata and private addresses are all refused', () => {
    const refused: [string, string][] = [
      ['127.0.0.1', 'loopback'], ['127.1', 'loopback'], ['0x7f.1', 'loopback'], ['0x7f000001', 'loopback'], ['2130706433', 'loopback'],
      ['0177.0.0.1', 'loopback'], ['0', 'unspecified'], ['0.0.0.0', 'unspecified'], ['::1', 'loopback'], ['[::1]', 'loopback'],
      ['::', 'unspecified'], ['::ffff:127.0.0.1', 'ipv4Mapped(loopback)'], ['::ffff:7f00:1', 'ipv4Mapped(loopback)'],
      ['::7f00:1', 'ipv4Compatible'], ['::127.0.0.1', 'ipv4Compatible'], ['::a9fe:a9fe', 'ipv4Compatible'], ['::169.254.169.254', 'ipv4Compatible'],
      ['::8.8.8.8', 'ipv4Compatible'], ['169.254.169.254', 'linkLocal'], ['fd00:ec2::254', 'uniqueLocal'], ['100.100.100.200', 'carrierGradeNat'],
      ['192.0.0.192', 'reserved'], ['10.0.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'carrierGradeNat'],
      ['fe80::1', 'linkLocal'], ['fe80::1%eth0', 'linkLocal'], ['fec0::1', 'deprecatedSiteLocal'], ['fc00::1', 'uniqueLocal'], ['ff02::1', 'multicast'],
      ['224.0.0.1', 'multicast'], ['255.255.255.255', 'broadcast'], ['240.0.0.1', 'reserved'], ['192.0.2.1', 'reserved'], ['198.51.100.7', 'reserved'],
      ['203.0.113.9', 'reserved'], ['198.18.0.1', 'reserved'], ['64:ff9b::7f00:1', 'nat64(loopback)'], ['64:ff9b::10.0.0.1', 'nat64(private)'],
      ['64:ff9b::a9fe:a9fe', 'nat64(linkLocal)'], ['64:ff9b:1::808:808', 'nat64LocalUse'], ['2002:7f00:1::1', '6to4(loopback)'],
      ['2002:a9fe:a9fe::', '6to4(linkLocal)'], ['2002:c0a8:101::1', '6to4(private)'], ['2001::1', 'teredo'], ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
      ['2001:db8::1', 'reserved'], ['3fff::1', 'reserved'], ['::ffff:0:7f00:1', 'rfc6145'], ['100::1', 'discard'], ['5f00::1', 'segmentRouting'],
      ['4000::1', 'unallocated'], ['1::1', 'unallocated'], ['fe00::1', 'unallocated'],
    ];
    for (const [address, range] of refused) assert.deepEqual(judgeAddress(address), { isPublic: false, range }, address);
  });

  test('globally routable unicast addresses, and the IPv6 forms that carry one, are public', () => {
    for (const address of ['8.8.8.8', '93.184.215.14', '1.1.1.1', '223.255.255.255', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::808:808', '2002:808:808::1']) {
      assert.deepEqual(judgeAddress(address), { isPublic: true }, address);
    }
  });

  test('host names and malformed input are never public', () => {
    for (const value of ['example.com', 'localhost', '', ' ', '1.2.3.4.5', '::1.2.3.400', '256.1.1.1', '[::1', 'http://8.8.8.8/', '8.8.8.8:80']) {
      assert.equal(isPublicAddress(value), false, value);
    }
    assert.equal(isIpAddress('example.com'), false);
    assert.equal(isIpAddress('[::1]'), true);
    assert.equal(isIpAddress('2130706433'), true);
  });

  test('the edges of every non-public IPv4 block: inside refused, just outside public unless another block starts there', () => {
    for (const [network, prefix] of IPV4_NOT_PUBLIC) {
      const first = ipv4Number(network);
      const last = first + 2 ** (32 - prefix) - 1;
      for (const inside of [first, last, Math.floor((first + last) / 2)]) assert.equal(isPublicAddress(ipv4Text(inside)), false, `${ipv4Text(inside)} in ${network}/${prefix}`);
      for (const outside of [first - 1, last + 1]) {
        if (outside < 0 || outside > 0xffffffff) continue;
        assert.equal(isPublicAddress(ipv4Text(outside)), oracleV4(outside), `${ipv4Text(outside)} next to ${network}/${prefix}`);
      }
    }
  });

  test('every IPv4 address agrees with the registry, as itself and in its mapped, NAT64 and 6to4 forms', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
      const expected = oracleV4(n);
      const text = ipv4Text(n);
      const high = (n >>> 16).toString(16);
      const low = (n & 0xffff).toString(16);
      assert.equal(isPublicAddress(text), expected, text);
      assert.equal(isPublicAddress(`::ffff:${text}`), expected, `::ffff:${text}`);
      assert.equal(isPublicAddress(`::ffff:${high}:${low}`), expected, `::ffff:${high}:${low}`);
      assert.equal(isPublicAddress(`64:ff9b::${high}:${low}`), expected, `64:ff9b::${high}:${low}`);
      assert.equal(isPublicAddress(`2002:${high}:${low}::1`), expected, `2002:${high}:${low}::1`);
      // The IPv4-compatible form is refused whatever it carries.
      assert.equal(isPublicAddress(`::${high}:${low}`), false, `::${high}:${low}`);
      assert.equal(isPublicAddress(`::${text}`), false, `::${text}`);
    }), { numRuns: 20_000 });
  });

  test('every IPv6 address agrees with the registry', () => {
    // Mostly under the interesting prefixes and at block edges, where a wrong boundary would show.
    const heads = [
      [], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0xffff], [0, 0, 0, 0, 0xffff, 0], [0x64, 0xff9b, 0, 0, 0, 0], [0x64, 0xff9b, 1], [0x64, 0xff9b, 0, 0, 0, 1],
      [0x100, 0, 0, 0], [0x1fff], [0x2000], [0x2001, 0], [0x2001, 0x1ff], [0x2001, 0x200], [0x2001, 0xdb8], [0x2002], [0x2400], [0x2620, 0x4f, 0x8000],
      [0x2620, 0x4f, 0x8001], [0x3fff, 0x0fff], [0x3fff, 0x1000], [0x4000], [0x5f00], [0xfc00], [0xfe80], [0xfec0], [0xff00],
    ];
    const address = fc.tuple(fc.constantFrom(...heads), fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }))
      .map(([head, random]) => ipv6Number(random.map((group, i) => head[i] ?? group)));
    fc.assert(fc.property(address, (n) => {
      assert.equal(isPublicAddress(ipv6Text(n)), oracleV6(n), ipv6Text(n));
    }), { numRuns: 20_000 });
  });
});
