// Meeting-link detection for calendar events.
//
// Everything here is pure string/URL work: no I/O, no clock, and no npm packages beyond the
// address rule of ./public-address.ts (ipaddr.js).
// The central invariant is that `identity` is a stable dedup key: every
// spelling of one meeting (different Zoom subdomains, with or without a
// passcode, Meet codes with or without dashes, encoded or decoded Teams thread
// ids, links hidden behind safe-link wrappers) must yield the same identity,
// while `url` keeps the link the bot should actually open, query string intact.
import { isIpAddress, isPublicAddress } from './public-address.ts';

export type MeetingPlatform =
  | 'zoom'
  | 'google_meet'
  | 'microsoft_teams'
  | 'webex'
  | 'gotomeeting'
  | 'bluejeans'
  | 'whereby';

export type ScheduleGroup = 'zoom' | 'google_meet' | 'microsoft_teams' | 'default';

export interface MeetingLink {
  /** Link to open: unwrapped and trimmed of prose punctuation, otherwise as written (full query kept). */
  url: string;
  /** null only for an explicitly supplied http(s) URL of no known platform. */
  platform: MeetingPlatform | null;
  /** Dedup key; equal for every spelling of the same meeting, distinct across meetings. */
  identity: string;
}

// Wrappers can be nested (e.g. Safe Links around a Proofpoint link), but a
// bound keeps a hostile or self-referencing chain from looping forever.
const MAX_UNWRAP_DEPTH = 5;

// ---------------------------------------------------------------------------
// Small helpers

/** True when `host` is `base` itself or any subdomain of it (never a lookalike such as `notzoom.us`). */
function hostIs(host: string, base: string): boolean {
  return host === base || host.endsWith(`.${base}`);
}

/** Lowercase, drop a trailing root dot and a leading `www.` so detection does not depend on them. */
function normaliseHost(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.startsWith('www.')) host = host.slice(4);
  return host;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    // Malformed escapes are left as they are rather than rejecting the link.
    return value;
  }
}

/** Non-empty path segments, still percent-encoded (callers decode only what they need). */
function pathSegments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

/**
 * Meeting numbers are often written with separators (`854-1234-5678`, or a
 * `%20` in a pasted link); the digits alone are what identify the meeting.
 */
function meetingNumber(segment: string | undefined): string | null {
  if (segment === undefined) return null;
  const digits = safeDecode(segment).replace(/[\s-]/g, '');
  return /^\d+$/.test(digits) ? digits : null;
}

/** Query parameter lookup that ignores the parameter name's case (Webex mixes `MTID` and `mtid`). */
function paramIgnoringCase(url: URL, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const [key, value] of url.searchParams) {
    if (key.toLowerCase() === wanted && value !== '') return value;
  }
  return null;
}

// ---------------------------------------------------------------------------
// URL validation

export function isHttpUrl(value: string): boolean {
  const candidate = value.trim();
  // The WHATWG parser would accept `http:host` and turn inner spaces into %20;
  // neither is something a person meant as a link, so require `//` and no whitespace.
  if (!/^https?:\/\//i.test(candidate) || /\s/.test(candidate)) return false;
  let parsed: URL;
  try {
    parsed = new URL(candidate);
  } catch {
    return false;
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '';
}

// ---------------------------------------------------------------------------
// Where a bot may be sent

/**
 * Top-level names that never lead to a public host: RFC 6761 (localhost, test, invalid, example),
 * RFC 6762 (local, and the private-use names of its appendix G: intranet, internal, private,
 * corp, home, lan), RFC 7686 (onion), RFC 9476 (alt), RFC 8375 (home.arpa; all of .arpa is
 * infrastructure), ICANN's reservation of .internal, the common `localdomain`, and the names a
 * Kubernetes cluster's DNS answers through its search path (kubernetes.io, "DNS for Services and
 * Pods": `<service>.<namespace>.svc`, and `<service>.default` in the default namespace).
 */
const INTERNAL_TOP_LEVEL_NAMES = new Set([
  'localhost', 'local', 'internal', 'intranet', 'private', 'corp', 'home', 'lan', 'localdomain', 'test', 'invalid', 'example', 'onion', 'alt', 'arpa', 'svc', 'default',
]);

export type MeetingUrlCheck = { ok: true } | { ok: false; reason: string };

/**
 * A meeting URL is handed to a bot runtime, which opens it from its own network: it must be an
 * http(s) URL on a public host. Refused: credentials in the URL, an IP literal of a non-public
 * range, single-label names and internal names (`localhost`, `*.local`, `*.internal`, ...).
 * The check is on the name only, without DNS: what a name resolves to from here says nothing
 * about what it resolves to where the bot runs, and the answer can change before the bot joins.
 */
export function checkMeetingUrl(url: string): MeetingUrlCheck {
  if (!isHttpUrl(url)) return { ok: false, reason: 'must be an absolute http(s) URL' };
  return checkPublicHost(new URL(url.trim()));
}

/**
 * Another address a bot config hands the runtime to open (a bot image, a live audio socket, a
 * realtime endpoint): one of `schemes`, on a public host, by the meeting link's rules.
 */
export function checkRuntimeAddress(url: string, schemes: readonly string[]): MeetingUrlCheck {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return { ok: false, reason: `must be an absolute ${schemes.join(' or ')} URL` };
  }
  if (!schemes.includes(parsed.protocol.slice(0, -1)) || /\s/.test(url.trim())) return { ok: false, reason: `must be an absolute ${schemes.join(' or ')} URL` };
  return checkPublicHost(parsed);
}

/** Whether a parsed URL names a public host: no user or password, no private or internal name or address. */
export function checkPublicHost(parsed: URL): MeetingUrlCheck {
  if (parsed.username !== '' || parsed.password !== '') return { ok: false, reason: 'must not carry a user name or password' };
  let host = parsed.hostname.toLowerCase();
  // A host left percent-encoded (kept as written in a scheme the URL standard does not know, such
  // as rtmp:) is no DNS name, and a client decoding it could reach any address.
  if (host.includes('%')) return { ok: false, reason: 'must name its host without percent-encoding' };
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (isIpAddress(host)) return isPublicAddress(host) ? { ok: true } : { ok: false, reason: 'must not point at a private, loopback or otherwise non-public address' };
  const lastDot = host.lastIndexOf('.');
  if (lastDot <= 0) return { ok: false, reason: 'must name a public host (a single-label name is internal)' };
  const topLevel = host.slice(lastDot + 1);
  if (INTERNAL_TOP_LEVEL_NAMES.has(topLevel)) return { ok: false, reason: `must name a public host (.${topLevel} names are internal)` };
  return { ok: true };
}

// ---------------------------------------------------------------------------
// Safe-link wrappers

const PROOFPOINT_RUN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function decodeBase64UrlChars(token: string): string[] | null {
  if (token === '') return [];
  const standard = token.replace(/-/g, '+').replace(/_/g, '/');
  const padded = standard + '='.repeat((4 - (standard.length % 4)) % 4);
  try {
    const binary = atob(padded);
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    // Replacement characters are indexed per Unicode character, not per byte.
    return Array.from(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
}

/**
 * Proofpoint v3 keeps the target URL mostly readable but swaps some characters
 * for `*` (one character) or `**X` (a run whose length is encoded by X); the
 * swapped characters travel base64url-encoded after `__;`.
 */
function decodeProofpointV3(raw: string): string | null {
  const marker = raw.indexOf('/v3/__');
  if (marker < 0) return null;
  const body = raw.slice(marker + '/v3/__'.length);
  const end = body.indexOf('__;');
  if (end < 0) return null;
  const template = body.slice(0, end);
  const afterTemplate = body.slice(end + 3);
  const bang = afterTemplate.indexOf('!');
  const replacements = decodeBase64UrlChars(bang >= 0 ? afterTemplate.slice(0, bang) : afterTemplate);
  if (replacements === null) return null;

  let out = '';
  let used = 0;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch !== '*') {
      out += ch;
      continue;
    }
    let runLength = 1;
    if (template[i + 1] === '*') {
      const lengthCode = template[i + 2];
      if (lengthCode === undefined) return null;
      const index = PROOFPOINT_RUN_ALPHABET.indexOf(lengthCode);
      if (index < 0) return null;
      runLength = index + 2;
      i += 2;
    }
    if (used + runLength > replacements.length) return null;
    out += replacements.slice(used, used + runLength).join('');
    used += runLength;
  }
  return out;
}

/** Proofpoint v2 writes `%` as `-` and `/` as `_` (and escapes literal ones as `-2D` / `-5F`). */
function decodeProofpointV2(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded.replace(/-/g, '%').replace(/_/g, '/'));
  } catch {
    return null;
  }
}

/** One layer of unwrapping; null when `url` is not a recognised wrapper that carries its target. */
function unwrapOnce(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const host = normaliseHost(parsed.hostname);
  const path = parsed.pathname.toLowerCase();

  if (hostIs(host, 'safelinks.protection.outlook.com') || hostIs(host, 'safelinks.protection.office365.us')) {
    return parsed.searchParams.get('url');
  }
  if (host === 'urldefense.proofpoint.com') {
    const target = parsed.searchParams.get('u');
    if (target === null) return null;
    if (path === '/v2/url') return decodeProofpointV2(target);
    if (path === '/v1/url') return target;
    return null;
  }
  if (host === 'urldefense.com' || host === 'urldefense.us') {
    // Work on the raw string: letting URL re-serialise the path could alter the embedded target.
    return decodeProofpointV3(url);
  }
  if (hostIs(host, 'mimecast.com') || hostIs(host, 'mimecastprotect.com')) {
    // `protect-*.mimecast.com/s/<token>` only references the target server-side,
    // so it yields null here and the wrapper is left in place.
    return parsed.searchParams.get('url') ?? parsed.searchParams.get('u');
  }
  if (host === 'google.com' && path === '/url') {
    return parsed.searchParams.get('q') ?? parsed.searchParams.get('url');
  }
  return null;
}

/** Peels Safe Links / Proofpoint / Mimecast / Google redirect wrappers; non-wrappers come back trimmed but unchanged. */
export function unwrapSafeLink(url: string): string {
  let current = url.trim();
  for (let depth = 0; depth < MAX_UNWRAP_DEPTH; depth++) {
    const next = unwrapOnce(current)?.trim();
    // Only follow targets that are themselves web links; a wrapper pointing at
    // `javascript:` or garbage is kept as-is rather than "unwrapped" into it.
    if (next === undefined || !isHttpUrl(next)) break;
    current = next;
  }
  return current;
}

// ---------------------------------------------------------------------------
// Platform detection

interface UrlParts {
  parsed: URL;
  host: string; // normalised: lowercase, no `www.`, no trailing dot
  segments: string[]; // percent-encoded, non-empty
}

type Detector = (parts: UrlParts) => string | null;

const ZOOM_DOMAINS = ['zoom.us', 'zoom.com', 'zoomgov.com'];

const detectZoom: Detector = ({ host, segments }) => {
  if (!ZOOM_DOMAINS.some((base) => hostIs(host, base))) return null;
  const [first, second, third] = segments.map((segment) => segment.toLowerCase());
  let number: string | null = null;
  if ((first === 'j' || first === 's' || first === 'w') && second !== undefined) {
    number = meetingNumber(second);
  } else if (first === 'wc' && second === 'join') {
    number = meetingNumber(third);
  } else if (first === 'wc' && third === 'join') {
    number = meetingNumber(second);
  } else if (first === 'my' && second !== undefined) {
    const vanity = safeDecode(second).trim().toLowerCase();
    return vanity === '' ? null : `zoom:my:${vanity}`;
  }
  // The identity deliberately ignores host and query: subdomain and `pwd` do not change the meeting.
  return number === null ? null : `zoom:${number}`;
};

const MEET_CODE = /^([a-z]{3})-?([a-z]{4})-?([a-z]{3})$/i;

const detectGoogleMeet: Detector = ({ host, segments }) => {
  if (host !== 'meet.google.com') return null;
  // `/_meet/<code>` is the same room reached through the installed-app route.
  const rest = segments[0] === '_meet' ? segments.slice(1) : segments;
  const [first, second] = rest;
  if (first === undefined) return null;
  if (first.toLowerCase() === 'lookup' && second !== undefined) {
    return `google_meet:lookup:${safeDecode(second).toLowerCase()}`;
  }
  if (rest.length !== 1) return null;
  const match = MEET_CODE.exec(first);
  if (match === null) return null;
  const [, a, b, c] = match;
  return `google_meet:${a}-${b}-${c}`.toLowerCase();
};

const TEAMS_HOSTS = new Set([
  'teams.microsoft.com',
  'teams.live.com',
  'gov.teams.microsoft.us',
  'dod.teams.microsoft.us',
  'teams.cloud.microsoft',
]);

/**
 * Thread ids are sometimes encoded twice (launcher links carry an encoded URL
 * inside a query parameter), so decode until no escapes remain, with a bound.
 */
function decodeThreadId(segment: string): string {
  let value = segment;
  for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(value); i++) {
    const decoded = safeDecode(value);
    if (decoded === value) break;
    value = decoded;
  }
  return value;
}

function teamsIdentityFromSegments(segments: string[]): string | null {
  const [first, second, third] = segments;
  const kind = first?.toLowerCase();
  if (kind === 'l' && second?.toLowerCase() === 'meetup-join' && third !== undefined) {
    // The meeting part of a thread id is case-sensitive (base64-like), so no lowercasing here.
    const threadId = decodeThreadId(third);
    return threadId === '' ? null : `microsoft_teams:${threadId}`;
  }
  if (kind === 'meet' && second !== undefined) {
    const id = safeDecode(second).replace(/\s/g, '');
    return id === '' ? null : `microsoft_teams:meet:${id}`;
  }
  return null;
}

/** Segments of a client-side route such as `#/l/meetup-join/...` or a launcher's `url=/_#/l/...`. */
function routeSegments(route: string): string[] {
  const withoutQuery = route.split('?')[0] ?? '';
  return pathSegments(withoutQuery.replace(/^\/?_?#?/, ''));
}

const detectTeams: Detector = ({ parsed, host, segments }) => {
  if (!TEAMS_HOSTS.has(host)) return null;
  const direct = teamsIdentityFromSegments(segments);
  if (direct !== null) return direct;

  const path = segments.map((segment) => segment.toLowerCase()).join('/');
  if (path === 'dl/launcher/launcher.html') {
    const target = parsed.searchParams.get('url');
    return target === null ? null : teamsIdentityFromSegments(routeSegments(target));
  }
  if ((path === '' || path === '_') && parsed.hash.startsWith('#/')) {
    return teamsIdentityFromSegments(routeSegments(parsed.hash.slice(1)));
  }
  return null;
};

const detectWebex: Detector = ({ parsed, host, segments }) => {
  if (!host.endsWith('.webex.com')) return null;
  const sub = host.slice(0, -'.webex.com'.length);
  const lower = segments.map((segment) => segment.toLowerCase());
  const [first, second] = lower;

  if ((first === 'meet' || first === 'join') && segments[1] !== undefined) {
    return `webex:${sub}:${first}:${safeDecode(segments[1]).toLowerCase()}`;
  }
  const normalisedPath = `${host}/${lower.join('/')}`;
  const last = lower.at(-1);
  if (lower.length >= 2 && (last === 'j.php' || last === 'm.php')) {
    const mtid = paramIgnoringCase(parsed, 'mtid');
    if (mtid !== null) return `webex:mtid:${mtid}`;
    // Without MTID the meeting is named only by the query (ED=, RGID=, ...);
    // host+path alone is shared by every meeting on the site and would merge
    // unrelated meetings, so keep the parameters in a canonical order.
    const params = [...parsed.searchParams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const query = new URLSearchParams(params).toString();
    return query === '' ? `webex:${normalisedPath}` : `webex:${normalisedPath}?${query}`;
  }
  if ((first === 'webappng' || first === 'wbxmjs') && lower.includes('meeting') && second !== undefined) {
    return `webex:${normalisedPath}`;
  }
  return null;
};

const detectGoToMeeting: Detector = ({ host, segments }) => {
  const [first, second] = segments.map((segment) => segment.toLowerCase());
  let number: string | null = null;
  if (hostIs(host, 'gotomeeting.com') && first === 'join') {
    number = meetingNumber(second);
  } else if (host === 'meet.goto.com') {
    number = first === 'join' ? meetingNumber(second) : segments.length === 1 ? meetingNumber(first) : null;
  } else if (host === 'app.goto.com' && first === 'meeting') {
    number = meetingNumber(second);
  }
  return number === null ? null : `gotomeeting:${number}`;
};

const detectBlueJeans: Detector = ({ host, segments }) => {
  if (!hostIs(host, 'bluejeans.com')) return null;
  // `/<id>`, `/<id>/<passcode>` and `/<id>/<passcode>/webrtc` are all the same meeting.
  if (segments.length < 1 || segments.length > 3) return null;
  const number = meetingNumber(segments[0]);
  return number === null ? null : `bluejeans:${number}`;
};

// Top-level pages of whereby.com that are not rooms.
const WHEREBY_RESERVED = new Set([
  'about', 'account', 'api', 'blog', 'business', 'careers', 'contact', 'cookie-policy', 'customers',
  'dashboard', 'developers', 'download', 'downloads', 'education', 'embed', 'enterprise', 'features',
  'gdpr', 'healthcare', 'help', 'information', 'integrations', 'jobs', 'legal', 'login', 'logout',
  'my-rooms', 'org', 'organization', 'partners', 'press', 'pricing', 'privacy', 'pro', 'product',
  'products', 'resources', 'security', 'settings', 'sign-in', 'sign-up', 'signin', 'signup',
  'solutions', 'support', 'team', 'teams', 'terms', 'user', 'users',
]);

const detectWhereby: Detector = ({ host, segments }) => {
  // Only the apex domain: subdomains are also used for docs/help sites whose
  // single-segment pages would otherwise look like rooms.
  if (host !== 'whereby.com' || segments.length !== 1 || segments[0] === undefined) return null;
  const room = safeDecode(segments[0]).toLowerCase();
  if (WHEREBY_RESERVED.has(room) || !/^[a-z0-9][a-z0-9._-]*$/.test(room)) return null;
  return `whereby:${room}`;
};

const DETECTORS: ReadonlyArray<readonly [MeetingPlatform, Detector]> = [
  ['zoom', detectZoom],
  ['google_meet', detectGoogleMeet],
  ['microsoft_teams', detectTeams],
  ['webex', detectWebex],
  ['gotomeeting', detectGoToMeeting],
  ['bluejeans', detectBlueJeans],
  ['whereby', detectWhereby],
];

/** Fallback key for links of no known platform: host + path, ignoring query, fragment and trailing slash. */
function genericIdentity(parsed: URL): string {
  return `url:${parsed.host.toLowerCase()}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** Classifies one absolute http(s) URL; anything else (relative, ftp:, javascript:, prose) gives null. */
export function parseMeetingLink(url: string): MeetingLink | null {
  const given = url.trim();
  if (!isHttpUrl(given)) return null;
  const target = unwrapSafeLink(given);
  let parsed: URL;
  try {
    parsed = new URL(target);
  } catch {
    return null;
  }
  const parts: UrlParts = {
    parsed,
    host: normaliseHost(parsed.hostname),
    segments: pathSegments(parsed.pathname),
  };
  for (const [platform, detect] of DETECTORS) {
    const identity = detect(parts);
    if (identity !== null) return { url: target, platform, identity };
  }
  return { url: target, platform: null, identity: genericIdentity(parsed) };
}

// ---------------------------------------------------------------------------
// HTML to text

const INLINE_TAGS = new Set([
  'a', 'abbr', 'b', 'bdi', 'bdo', 'big', 'cite', 'code', 'data', 'del', 'dfn', 'em', 'font', 'i',
  'ins', 'kbd', 'mark', 'o:p', 'q', 's', 'samp', 'small', 'span', 'strike', 'strong', 'sub', 'sup',
  'time', 'tt', 'u', 'var', 'wbr',
]);

// Descriptions can arrive from outside the organisation, so every pattern
// below must run in linear time: nothing may rescan the rest of the input once
// per `<`. That is why a tag never spans another `<`, and why paired blocks
// are cut by an explicit scan rather than a lazy `[\s\S]*?` regex.
// Quoted attribute values are consumed whole because they may contain `>`.
const ATTRIBUTES = `((?:"[^"<]*"|'[^'<]*'|[^'"<>])*)`;
// A tag name must be followed by whitespace, `/` or `>`: that keeps plain-text
// autolinks such as `<https://zoom.us/j/1>` from being mistaken for tags.
const TAG_PATTERN = new RegExp(`<(/?)([a-z][a-z0-9-]*(?::[a-z][a-z0-9-]*)?)(?=[\\s/>])${ATTRIBUTES}>`, 'gi');
const HREF_PATTERN = /(?:^|\s)href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  // A plain space rather than U+00A0: the output is for reading and link scanning.
  nbsp: ' ',
};

/** Single pass, so `&amp;lt;` becomes `&lt;` and is not decoded a second time. */
function decodeEntities(text: string): string {
  return text.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-z]+));/g, (whole, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED_ENTITIES[name] ?? whole;
    const codePoint = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
    const valid = codePoint > 0 && codePoint <= 0x10ffff && !(codePoint >= 0xd800 && codePoint <= 0xdfff);
    return valid ? String.fromCodePoint(codePoint) : whole;
  });
}

/** Only web links are worth surfacing; `mailto:`/`tel:` anchors would just add noise. */
function webHref(attributes: string): string | null {
  const match = HREF_PATTERN.exec(attributes);
  if (match === null) return null;
  const href = (match[1] ?? match[2] ?? match[3] ?? '').trim();
  return /^https?:\/\//i.test(decodeEntities(href)) ? href : null;
}

function looselySameLink(a: string, b: string): boolean {
  const norm = (value: string): string =>
    value.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return norm(a) === norm(b);
}

/**
 * Cut `opener ... closer` blocks (comments, scripts, styles). An opener with no
 * closer ends the work and the remainder is kept, so each character is scanned
 * a bounded number of times. Both patterns must carry the `g` flag.
 */
function removeBlocks(text: string, opener: RegExp, closerFor: (open: RegExpExecArray) => RegExp): string {
  let out = '';
  let pos = 0;
  for (;;) {
    opener.lastIndex = pos;
    const open = opener.exec(text);
    if (open === null) break;
    const closer = closerFor(open);
    closer.lastIndex = open.index + open[0].length;
    const close = closer.exec(text);
    if (close === null) break;
    out += text.slice(pos, open.index);
    pos = close.index + close[0].length;
  }
  return out + text.slice(pos);
}

interface OpenAnchor {
  href: string;
  textStart: number; // offset in the output where the anchor's visible text begins
}

/**
 * The href goes right after the anchor text so a link hidden behind "Click
 * here" is still visible to the URL scanner; it is skipped when the text
 * already shows the same link.
 */
function anchorSuffix(out: string, anchor: OpenAnchor | null): string {
  if (anchor === null) return '';
  const visible = decodeEntities(out.slice(anchor.textStart));
  return looselySameLink(visible, decodeEntities(anchor.href)) ? '' : ` (${anchor.href})`;
}

export function stripHtml(html: string): string {
  const withoutComments = removeBlocks(html, /<!--/g, () => /-->/g);
  const source = removeBlocks(withoutComments, /<(script|style)(?=[\s/>])/gi, (open) => new RegExp(`</${open[1] ?? ''}\\s*>`, 'gi'))
    .replace(/<![a-z][^<>]*>|<\?[^<>]*>/gi, '');

  const tags = new RegExp(TAG_PATTERN.source, TAG_PATTERN.flags);
  let out = '';
  let pos = 0;
  let anchor: OpenAnchor | null = null;
  for (let match = tags.exec(source); match !== null; match = tags.exec(source)) {
    out += source.slice(pos, match.index);
    pos = match.index + match[0].length;
    const name = (match[2] ?? '').toLowerCase();
    if (name === 'a') {
      // Anchors do not nest, so any `<a>` or `</a>` ends the one that is open.
      out += anchorSuffix(out, anchor);
      anchor = null;
      const href = match[1] === '/' ? null : webHref(match[3] ?? '');
      if (href !== null) anchor = { href, textStart: out.length };
      continue;
    }
    // Inline formatting vanishes so words stay whole; anything else is a line
    // break so text from separate blocks never fuses into one URL.
    out += INLINE_TAGS.has(name) ? '' : '\n';
  }
  out += source.slice(pos);
  out += anchorSuffix(out, anchor);

  return decodeEntities(out)
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
}

// ---------------------------------------------------------------------------
// Free-text scanning

// Characters that end a URL in prose. Quotes and angle brackets delimit links
// in both HTML leftovers and plain-text autolinks.
const URL_CHARS = `[^\\s<>"'\`]`;

// Hosts whose links are recognised even without a scheme (people type
// `zoom.us/j/123` into a location field). Requiring a path keeps a bare
// mention of "zoom.us" from counting.
const SCHEMELESS_HOSTS = [
  'zoom.us', 'zoom.com', 'zoomgov.com', 'meet.google.com', 'teams.microsoft.com', 'teams.live.com',
  'teams.microsoft.us', 'teams.cloud.microsoft', 'webex.com', 'gotomeeting.com', 'goto.com',
  'bluejeans.com', 'whereby.com',
].map((host) => host.replace(/\./g, '\\.'));

// The lookbehind stops a scheme-less match from starting inside a word, an
// e-mail address (`jane@zoom.us`) or another URL.
const CANDIDATE_PATTERN = new RegExp(
  `https?://${URL_CHARS}+|(?<![\\w@./:%-])(?:[a-z0-9-]+\\.)*(?:${SCHEMELESS_HOSTS.join('|')})(?=/)${URL_CHARS}*`,
  'gi',
);

const PROSE_TRAILERS = new Set(['.', ',', ';', ':', '!', '?', "'", '"', '*']);
const CLOSING_BRACKETS: Record<string, string> = { ')': '(', ']': '[', '}': '{', '>': '<' };
const OPENING_BRACKETS: Record<string, string> = { '(': ')', '[': ']', '{': '}', '<': '>' };

function countChar(text: string, ch: string): number {
  let count = 0;
  for (const c of text) if (c === ch) count++;
  return count;
}

/**
 * Drop punctuation that belongs to the sentence, not the link. A closing
 * bracket is kept when the URL itself opened it (`.../Foo_(bar)`), which is
 * what distinguishes `(see https://x/a)` from a URL containing parentheses.
 * Bracket balance is counted once up front so long runs of `)))` stay linear.
 */
function trimProseTrailers(candidate: string): string {
  const unmatchedClosers = new Map<string, number>();
  for (const ch of candidate) {
    const opener = CLOSING_BRACKETS[ch];
    if (opener !== undefined) unmatchedClosers.set(ch, (unmatchedClosers.get(ch) ?? 0) + 1);
    const closer = OPENING_BRACKETS[ch];
    if (closer !== undefined) unmatchedClosers.set(closer, (unmatchedClosers.get(closer) ?? 0) - 1);
  }
  let end = candidate.length;
  while (end > 0) {
    const last = candidate[end - 1] ?? '';
    if (PROSE_TRAILERS.has(last)) {
      end--;
      continue;
    }
    const unmatched = unmatchedClosers.get(last) ?? 0;
    if (CLOSING_BRACKETS[last] !== undefined && unmatched > 0) {
      unmatchedClosers.set(last, unmatched - 1);
      end--;
      continue;
    }
    break;
  }
  return candidate.slice(0, end);
}

// A Teams context blob is ~150 characters; the bound keeps a hostile run of
// unclosed braces from making the scan quadratic.
const MAX_BRACE_EXTENSION = 1024;

/**
 * Some invites paste a Teams link with its `context={"Tid":"..."}` JSON
 * unencoded; the quotes would cut the URL at `{`, so when a candidate stops
 * inside an open brace, extend it over the balanced braces (no whitespace).
 */
function extendOverBraces(text: string, start: number, end: number): number {
  const matched = text.slice(start, end);
  let depth = countChar(matched, '{') - countChar(matched, '}');
  if (depth <= 0) return end;
  const limit = Math.min(text.length, end + MAX_BRACE_EXTENSION);
  for (let i = end; i < limit; i++) {
    const ch = text[i] ?? '';
    if (/[\s<>]/.test(ch)) return end;
    if (ch === '{') depth++;
    if (ch === '}' && --depth === 0) {
      let next = i + 1;
      while (next < text.length && /[^\s<>"'`]/.test(text[next] ?? ' ')) next++;
      return next;
    }
  }
  return end;
}

/**
 * First link of a known platform in free text or HTML. Input is always run
 * through stripHtml, so entity-encoded links (`&amp;`) and anchors whose text
 * hides the href are handled the same in a location as in a description.
 * Unknown-platform links are skipped: prose links are not meetings, and so
 * are links `accept` turns down.
 */
export function findMeetingLink(text: string, accept: (link: MeetingLink) => boolean = () => true): MeetingLink | null {
  const plain = stripHtml(text);
  const pattern = new RegExp(CANDIDATE_PATTERN.source, CANDIDATE_PATTERN.flags);
  for (let match = pattern.exec(plain); match !== null; match = pattern.exec(plain)) {
    const end = extendOverBraces(plain, match.index, match.index + match[0].length);
    pattern.lastIndex = end;
    const candidate = trimProseTrailers(plain.slice(match.index, end));
    const absolute = /^https?:\/\//i.test(candidate) ? candidate : `https://${candidate}`;
    const link = parseMeetingLink(absolute);
    if (link !== null && link.platform !== null && accept(link)) return link;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Event-level resolution

/** Priority: explicit meetingUrl (any http(s) URL) > known link in location > known link in description. */
export function resolveMeetingLink(input: {
  meetingUrl?: string | null;
  location?: string | null;
  description?: string | null;
}): MeetingLink | null {
  const explicit = input.meetingUrl?.trim();
  if (explicit) {
    // An explicit conference URL is trusted even for unknown platforms; a
    // scheme-less known link (`zoom.us/j/1`) is still recovered by scanning.
    const link = parseMeetingLink(explicit) ?? findMeetingLink(explicit);
    if (link !== null) return link;
  }
  if (input.location) {
    const link = findMeetingLink(input.location);
    if (link !== null) return link;
  }
  if (input.description) {
    return findMeetingLink(input.description);
  }
  return null;
}

/**
 * The conference link a calendar event hands on, once the calendar's own conferencing has been
 * weighed against the links its organiser wrote.
 *
 * Google Calendar adds a Meet link by itself to the events a Workspace user creates with a guest
 * when Meet is the default provider (admin setting "Automatically add video conferencing to events
 * users create": support.google.com/a/answer/9898950; Meet the default since 16 November 2020:
 * support.zoom.com KB0060226), and Outlook makes every meeting a Teams meeting when "Add online
 * meeting to all meetings" is on (Exchange Online's OnlineMeetingsByDefaultEnabled, true for a
 * tenant unless turned off: office365itpros.com on online meetings by default). Neither API says
 * whether the link was added that way or chosen (Google's event resource has hangoutLink and
 * conferenceData; Graph's event has isOnlineMeeting, onlineMeetingProvider, onlineMeeting). A link of another platform in the location or the description
 * can only have been put there by a person, and is where a meeting held elsewhere is written
 * (Google: a third-party conference without an add-on is made outside Calendar and pasted into
 * the event, developers.google.com/workspace/add-ons/calendar/conferencing/overview). So a
 * conference link of the calendar's own platform (`calendarPlatform`: Meet on Google, Teams on
 * Outlook) yields to the first known link of another platform in the location, else in the
 * description. Anything else keeps the conference link: one of another platform (a Zoom meeting
 * added by the Zoom add-on sits in conferenceData as an add-on conference), or text links of the
 * same platform only (another spelling of the meeting, or a second room of the same service, is
 * no sign that the organiser moved the meeting elsewhere).
 */
export function conferenceLinkToFollow(input: {
  conferenceUrl: string | null;
  calendarPlatform: MeetingPlatform;
  location: string | null;
  description: string | null;
}): string | null {
  const given = input.conferenceUrl;
  if (given === null || given.trim() === '') return given;
  const conference = parseMeetingLink(given) ?? findMeetingLink(given);
  if (conference === null || conference.platform !== input.calendarPlatform) return given;
  const elsewhere = (link: MeetingLink): boolean => link.platform !== input.calendarPlatform;
  // A personal room in the description is as likely a signature ("my Zoom: zoom.us/my/alice") or a
  // forwarded thread as the meeting's place; in the location it was put there for this meeting.
  const elsewhereNotPersonal = (link: MeetingLink): boolean => elsewhere(link) && !isPersonalRoom(link);
  const written = (input.location ? findMeetingLink(input.location, elsewhere) : null)
    ?? (input.description ? findMeetingLink(input.description, elsewhereNotPersonal) : null);
  return written?.url ?? given;
}

/** A person's standing room rather than one meeting's link: Zoom's `/my/<name>`, Webex's `/meet/<name>` and `/join/<name>`. */
function isPersonalRoom(link: MeetingLink): boolean {
  return link.identity.startsWith('zoom:my:') || /^webex:[^:]+:(?:meet|join):/.test(link.identity);
}

/**
 * Whether a link lets a guest in without typing the meeting's passcode: Zoom's `pwd` parameter
 * (the passcode, encoded, that Zoom adds to invite links) or the `p` of a Teams `/meet/<id>`
 * link. Two links of one meeting often differ only in this (an invite forwarded without it, a
 * number pasted by hand).
 */
export function carriesPasscode(url: string): boolean {
  const link = parseMeetingLink(url);
  if (link === null) return false;
  const parsed = new URL(link.url);
  if (link.platform === 'zoom') return paramIgnoringCase(parsed, 'pwd') !== null;
  if (link.platform === 'microsoft_teams') return link.identity.startsWith('microsoft_teams:meet:') && paramIgnoringCase(parsed, 'p') !== null;
  return false;
}

/**
 * The link a bot shared by several events of one meeting keeps when another event joins it: the
 * newest, unless the client did not give it (it is the event's own) and it lacks the passcode
 * the bot's link carries. A bot sent to a Zoom meeting without its passcode waits at the prompt.
 */
export function linkForSharedBot(current: string, incoming: string, isGivenByClient: boolean): string {
  if (isGivenByClient) return incoming;
  return carriesPasscode(current) && !carriesPasscode(incoming) ? current : incoming;
}

export function scheduleGroupOf(platform: MeetingPlatform | null): ScheduleGroup {
  switch (platform) {
    case 'zoom':
    case 'google_meet':
    case 'microsoft_teams':
      return platform;
    default:
      return 'default';
  }
}
