// The one HTTP client for outbound requests (webhooks, calendar feeds, calendar provider APIs),
// on undici. A request names the URL and whether it came from a user (`guarded`); the answer is
// status, headers and body, and every way of not getting one is an OutboundError of a small
// closed set of kinds.
//
// Guarded requests go through an undici Agent whose connector checks the address each new
// connection actually dials (undici's documented extension point for checking a socket before it
// is used: https://github.com/nodejs/undici/blob/main/docs/docs/api/Connector.md):
// - an IP-literal host (`http://2130706433/`, `http://[::ffff:7f00:1]/`; the URL parser has
//   already normalised the spelling) is judged before any packet is sent, because Node never
//   calls a lookup hook for a literal;
// - a host name is resolved by the guard's lookup inside net.connect, which refuses the name if any
//   of its addresses is not public, so the socket can only dial checked addresses;
// - once connected, the socket's remote address is judged again, whatever led to it.
// Refusal happens before the dial, so a private port that is open and one that is closed give the
// same error: the client is no port scanner.
//
// Redirects are followed here, hop by hop, only when the caller asks (`redirects` > 0): each hop
// is a new request through the same Agent, so its connection passes the same connector, and its
// URL must be http(s). Written by hand rather than with undici's redirect interceptor because the
// interceptor reports a refused scheme as a generic InvalidArgumentError, which cannot be told
// apart from a programming error, and the rules are few (RFC 9110 section 15.4).
//
// A request its caller marks safe to send twice (`resendOnClosedReuse`: webhooks, which receivers
// deduplicate by webhook-id) that goes out on a kept-alive connection just as the server closes it
// (its idle timeout ran out as the request arrived: RFC 9112 section 9.3.1; nodejs/undici#3141)
// fails before any answer, with a reset or "other side closed". undici resends only idempotent
// methods then, so such a POST would fail although the server never saw it; here it is sent once
// more, at once, on a connection of its own. Whether a connection had carried a request before is
// counted from undici's documented `undici:client:sendHeaders` diagnostics channel
// (docs/docs/api/DiagnosticsChannel.md), and the error that closed it is marked by the connector,
// which is first to hear of it. Only HTTP/1.1 connections are counted: over HTTP/2 (which undici
// offers by ALPN unless told not to) requests share a connection as concurrent streams, so a
// second request on it says nothing about the first having been answered, and a reset there may
// lose requests the server had read; those fail as any reset does. The connection of the resend
// offers HTTP/1.1 only (`allowH2: false` given to the connector itself: an Agent's own allowH2
// reaches only a connector the Agent builds, not one passed to it as a function).
//
// Answers come compressed when the server likes (gzip, deflate and br are asked for; zstd, and
// gzip from feed hosts that compress whatever is asked, come unasked too): they are decoded with
// node:zlib as they stream in, so `maxBytes` bounds the decoded text and a small body that inflates
// to gigabytes is cut like any long one. An encoding it cannot decode is refused (`undecodable`)
// rather than read as text. (undici's decompress interceptor does the same, but is marked
// experimental and prints a warning on every start.)
import type { IncomingHttpHeaders } from 'node:http';
import { channel } from 'node:diagnostics_channel';
import { isIP, type Socket } from 'node:net';
import { pipeline, Readable, type Transform } from 'node:stream';
import { constants as zlibConstants, createBrotliDecompress, createGunzip, createInflate, createInflateRaw, createZstdDecompress } from 'node:zlib';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { isPublicAddress } from '../domain/public-address.ts';
import { BlockedAddressError, type OutboundGuard } from './outbound-guard.ts';

export type OutboundMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * - blocked: the guard refused the address, or a redirect led to a URL that is not http(s);
 * - invalid_url: the URL (or a redirect's Location) cannot be parsed;
 * - too_many_redirects: more redirects than the request allowed;
 * - timeout: no complete answer within the request's deadline;
 * - aborted: the caller ended the exchange first (its `signal`, such as a stop of the process);
 * - undecodable: the answer's Content-Encoding is one this client cannot decode, or its body is
 *   not valid in the encoding it names;
 * - unreachable: any other network failure (refused, reset, DNS, TLS).
 */
export type OutboundFailureKind = 'blocked' | 'invalid_url' | 'too_many_redirects' | 'timeout' | 'aborted' | 'undecodable' | 'unreachable';

export class OutboundError extends Error {
  readonly kind: OutboundFailureKind;

  constructor(kind: OutboundFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutboundError';
    this.kind = kind;
  }
}

export interface OutboundRequest {
  method: OutboundMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Deadline for the whole exchange: connecting, every redirect hop, and reading the body. */
  timeoutMs: number;
  /**
   * Longest body kept; past it the rest is not read and `isTruncated` is set. 0 answers as soon as
   * the status and headers are in, and the body is drained in the background. (Default: 10 MiB)
   */
  maxBytes?: number;
  /** Redirects to follow; 0 makes a 3xx an answer like any other. (Default: 0) */
  redirects?: number;
  /** The URL came from a user: every connection's address is checked by the guard. */
  guarded: boolean;
  /** Makes the filter the body's bytes pass through before they are decoded (one per request). */
  byteFilter?: () => ByteFilter;
  /** Ends the exchange early when aborted (an OutboundError of kind `aborted`). */
  signal?: AbortSignal;
  /**
   * The request may reach the server twice (the server drops repeats): one that a kept-alive
   * connection, already used for an earlier request, lost before any answer (a reset, or the
   * server closing it) is sent once more at once on a new connection. (Default: false)
   */
  resendOnClosedReuse?: boolean;
}

/** Rewrites a body's bytes before they are decoded as UTF-8, chunk by chunk. */
export interface ByteFilter {
  /** The bytes to decode now, of those held and `chunk` (it may keep some back for the next). */
  push(chunk: Buffer): Buffer;
  /** What it kept back, at the end of the body. */
  end(): Buffer;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as one string (joined when first read). */
  readonly body: string;
  /**
   * The body as it was decoded, chunk by chunk: a reader of big answers (calendar feeds, up to
   * 20 MiB) reads these instead of `body`, so that no one step has to build the whole text.
   */
  readonly bodyPieces: readonly string[];
  /** The body was longer than maxBytes and was cut there. */
  isTruncated: boolean;
}

class DecodedResponse implements OutboundResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly bodyPieces: readonly string[];
  readonly isTruncated: boolean;
  #body: string | null = null;

  constructor(status: number, headers: IncomingHttpHeaders, bodyPieces: readonly string[], isTruncated: boolean) {
    this.status = status;
    this.headers = headers;
    this.bodyPieces = bodyPieces;
    this.isTruncated = isTruncated;
  }

  get body(): string {
    this.#body ??= this.bodyPieces.length === 1 ? this.bodyPieces[0]! : this.bodyPieces.join('');
    return this.#body;
  }
}

export interface OutboundHttpOptions {
  guard: OutboundGuard;
  /** Longest wait for a TCP (and TLS) connection. (Default: 10000) */
  connectTimeoutMs?: number;
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
/** Asked for on every request; zstd is decoded when sent but not asked for (Node marks it experimental). */
const ACCEPTED_ENCODINGS = 'gzip, deflate, br';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Sent to the origin they were meant for only (RFC 9110 section 15.4, last paragraphs). */
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** Requests written to each connection so far (undici:client:sendHeaders). */
const requestsOn = new WeakMap<object, number>();
/** Errors that closed a connection after it had carried an earlier request. */
const closedUnderReuse = new WeakSet<object>();
let isCounting = false;

function countRequestsPerConnection(): void {
  if (isCounting) return;
  isCounting = true;
  channel('undici:client:sendHeaders').subscribe((message) => {
    const { socket } = message as { socket: Socket };
    if (isHttp2(socket)) return;
    requestsOn.set(socket, (requestsOn.get(socket) ?? 0) + 1);
  });
}

/** The connection negotiated HTTP/2 by ALPN: its requests are concurrent streams, not a sequence. */
function isHttp2(socket: Socket): boolean {
  return (socket as Socket & { alpnProtocol?: string | false }).alpnProtocol === 'h2';
}

/**
 * The connector, with each HTTP/1.1 connection's closing error marked when it had carried more
 * than the request it lost.
 */
function markingReuse(connect: buildConnector.connector): buildConnector.connector {
  return (options, callback) => connect(options, (...result) => {
    const [error, socket] = result;
    if (error === null && !isHttp2(socket as Socket)) {
      (socket as Socket).prependListener('error', (closing: Error) => {
        if ((requestsOn.get(socket) ?? 0) > 1) closedUnderReuse.add(closing);
      });
    }
    callback(...result);
  });
}

/** Whether a failure before any answer was a kept-alive connection, used before, closing under the request. */
function isClosedUnderReuse(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (closedUnderReuse.has(e)) return true;
  }
  return false;
}

/**
 * A connector that lets a connection be made only to an address the guard accepts; `allowH2`
 * false offers only HTTP/1.1 in TLS's ALPN.
 */
function guardedConnector(guard: OutboundGuard, connectTimeoutMs: number, allowH2: boolean): buildConnector.connector {
  const dial = buildConnector({ timeout: connectTimeoutMs, lookup: guard.lookup, allowH2 });
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    const isAllowed = guard.isHostAllowed(host);
    if (!isAllowed && isIP(host) !== 0 && !guard.checkAddress(host, host).ok) {
      callback(new BlockedAddressError(`${host} is not public`), null);
      return;
    }
    dial(options, (...result) => {
      const [error, socket] = result;
      if (error !== null) {
        callback(error, null);
        return;
      }
      const remote = socket.remoteAddress;
      if (!isAllowed && (remote === undefined || !isPublicAddress(remote))) {
        socket.destroy();
        callback(new BlockedAddressError(`${host} connected to ${remote ?? 'an unknown address'}`), null);
        return;
      }
      callback(null, socket);
    });
  };
}

function parseTarget(url: string, isGuarded: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OutboundError('invalid_url', 'the URL is not valid');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new OutboundError('blocked', 'only http and https URLs are fetched');
  if (isGuarded && (parsed.username !== '' || parsed.password !== '')) throw new OutboundError('blocked', 'URLs with credentials are not fetched');
  return parsed;
}

function isBlocked(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof BlockedAddressError || (e as NodeJS.ErrnoException).code === 'EBLOCKED') return true;
  }
  return false;
}

/** Any failure on the way to an answer, as one of the closed set. */
function toOutboundError(error: unknown, deadline: AbortSignal, timeoutMs: number, callerSignal: AbortSignal | undefined): OutboundError {
  if (error instanceof OutboundError) return error;
  if (isBlocked(error)) return new OutboundError('blocked', 'the address is not allowed (not public)', { cause: error });
  if (deadline.aborted) return new OutboundError('timeout', `no answer within ${timeoutMs} ms`, { cause: error });
  if (callerSignal?.aborted) return new OutboundError('aborted', 'the request was ended before its answer by its caller', { cause: error });
  if (isDecodingFailure(error)) return new OutboundError('undecodable', `the answer's body is not valid in its Content-Encoding: ${(error as Error).message}`, { cause: error });
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new OutboundError('unreachable', `request failed: ${code ?? (error as Error | undefined)?.message ?? 'unknown error'}`, { cause: error });
}

/**
 * Decoders of the content codings fetch() also takes (RFC 9110 section 8.4.1), given the first
 * bytes of what they decode. `deflate` is meant to be zlib-wrapped (RFC 9110 section 8.4.1.2), but
 * some servers send the raw stream: as fetch does, a first byte that is no zlib header (its low
 * four bits name the method, 8) is read as raw deflate.
 */
const DECODERS: Record<string, (first: Buffer | null) => Transform> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: (first) => (first !== null && (first[0]! & 0x0f) !== 0x08 ? createInflateRaw() : createInflate()),
  br: () => createBrotliDecompress(),
  // An 8 MiB window at most, as RFC 9659 section 3 asks of HTTP recipients.
  zstd: () => createZstdDecompress({ params: { [zlibConstants.ZSTD_d_windowLogMax]: 23 } }),
};

/** Codings applied on top of each other that are decoded; more is refused (a cheap way to burn CPU). */
const MAX_CODINGS = 3;

/** Statuses whose answers have no body, whatever Content-Encoding they name (RFC 9110 section 6.4.1). */
const isBodiless = (status: number) => status < 200 || status === 204 || status === 205 || status === 304;

/** The codings to take off, in that order, for a Content-Encoding header; null when one is not known. */
function codingsToDecode(header: string | string[] | undefined): string[] | null {
  if (header === undefined) return [];
  const codings = String(header).split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '' && coding !== 'identity');
  if (codings.length > MAX_CODINGS || codings.some((coding) => DECODERS[coding] === undefined)) return null;
  // The header lists codings in the order they were applied: the last one comes off first.
  return codings.reverse();
}

/**
 * The body with its codings taken off; an error anywhere in the chain ends the reading with it.
 * An empty body stays empty (a 200 with no bytes and `Content-Encoding: gzip` is no broken gzip).
 */
async function* decoded(body: Readable, codings: readonly string[]): AsyncGenerator<Buffer> {
  if (codings.length === 0) {
    yield* body as AsyncIterable<Buffer>;
    return;
  }
  const chunks = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await chunks.next();
  if (first.done) return;
  const replay = Readable.from((async function* () {
    try {
      yield first.value;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    } finally {
      // Reading stopped early (the size cap, an error): the response body is let go of too.
      await chunks.return?.();
    }
  })(), { objectMode: false });
  // Only the outermost decoder sees the body's own first bytes.
  const decoders = codings.map((coding, i) => DECODERS[coding]!(i === 0 ? first.value : null));
  yield* pipeline([replay, ...decoders], () => undefined) as unknown as AsyncIterable<Buffer>;
}

/** zlib's errors: Z_DATA_ERROR and kin (gzip, deflate), ERR__ERROR_* (brotli), ZSTD_error_* (zstd). */
function isDecodingFailure(error: unknown): boolean {
  const code = String((error as NodeJS.ErrnoException | undefined)?.code ?? '');
  return code.startsWith('Z_') || code.startsWith('ERR__ERROR') || code.startsWith('ERR_BROTLI') || code.startsWith('ZSTD_error') || code.startsWith('ERR_ZSTD');
}

/**
 * The body as text, decoded chunk by chunk as it arrives (a character split between two chunks is
 * held over to the next), and kept in those pieces: joining a 19 MB calendar feed's buffers and
 * decoding them in one go held the event loop for 60-180 ms (hostile-calendar-data.int.test.ts).
 */
async function readBody(body: AsyncIterable<Buffer>, maxBytes: number, filter?: ByteFilter): Promise<{ pieces: string[]; isTruncated: boolean }> {
  const decoder = new TextDecoder('utf-8');
  const pieces: string[] = [];
  // Chunks are decoded a mebibyte at a time: pieces that size live in V8's large-object space,
  // which a garbage collection never copies (a 19 MB feed in 64 KiB pieces made the collector's
  // compacting pause long enough to count).
  let held: Buffer[] = [];
  let heldBytes = 0;
  const decodeHeld = (last: boolean) => {
    if (last && filter) {
      const rest = filter.end();
      held.push(rest);
      heldBytes += rest.length;
    }
    if (heldBytes > 0) pieces.push(decoder.decode(held.length === 1 ? held[0] : Buffer.concat(held, heldBytes), { stream: !last }));
    else if (last) pieces.push(decoder.decode());
    held = [];
    heldBytes = 0;
  };
  let size = 0;
  for await (const chunk of body) {
    const isLast = size + chunk.length > maxBytes;
    const part = isLast ? chunk.subarray(0, maxBytes - size) : chunk;
    size += part.length;
    const bytes = filter ? filter.push(part) : part;
    held.push(bytes);
    heldBytes += bytes.length;
    if (isLast) {
      decodeHeld(true);
      // Leaving the loop destroys the stream: the rest is never read.
      return { pieces, isTruncated: true };
    }
    if (heldBytes >= PIECE_BYTES) decodeHeld(false);
  }
  decodeHeld(true);
  return { pieces, isTruncated: false };
}

/** Bytes decoded into one piece of a response's text (see readBody). */
const PIECE_BYTES = 1024 * 1024;

export class OutboundHttp {
  readonly #guarded: Agent;
  readonly #direct: Agent;
  /** The same, without keep-alive: a connection for one request (a resend after a closed reuse). */
  readonly #guardedOnce: Agent;
  readonly #directOnce: Agent;

  constructor(options: OutboundHttpOptions) {
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    countRequestsPerConnection();
    this.#guarded = new Agent({ connect: markingReuse(guardedConnector(options.guard, connectTimeoutMs, true)) });
    this.#direct = new Agent({ connect: markingReuse(buildConnector({ timeout: connectTimeoutMs })) });
    // pipelining 0: no keep-alive (undici's Client docs); HTTP/1.1 only, whose connection ends with
    // its request. allowH2 must reach the connector: buildConnector offers h2 unless told not to.
    this.#guardedOnce = new Agent({ connect: guardedConnector(options.guard, connectTimeoutMs, false), pipelining: 0, allowH2: false });
    this.#directOnce = new Agent({ connect: buildConnector({ timeout: connectTimeoutMs, allowH2: false }), pipelining: 0, allowH2: false });
  }

  async request(request: OutboundRequest): Promise<OutboundResponse> {
    const deadline = AbortSignal.timeout(request.timeoutMs);
    const signal = request.signal ? AbortSignal.any([deadline, request.signal]) : deadline;
    const dispatcher = request.guarded ? this.#guarded : this.#direct;
    const maxRedirects = request.redirects ?? 0;
    let url = parseTarget(request.url, request.guarded);
    let method: OutboundMethod = request.method;
    let body = request.body;
    let headers: Record<string, string> = { ...request.headers };
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'accept-encoding')) headers['accept-encoding'] = ACCEPTED_ENCODINGS;
    try {
      for (let hop = 0; ; hop++) {
        const options = { origin: url.origin, path: `${url.pathname}${url.search}`, method, headers, body: body ?? null, signal };
        let response: Dispatcher.ResponseData;
        try {
          response = await dispatcher.request(options);
        } catch (error) {
          if (!request.resendOnClosedReuse || !isClosedUnderReuse(error) || signal.aborted) throw error;
          response = await (request.guarded ? this.#guardedOnce : this.#directOnce).request(options);
        }
        const location = response.headers.location;
        if (maxRedirects === 0 || !REDIRECT_STATUSES.has(response.statusCode) || typeof location !== 'string') {
          const maxBytes = request.maxBytes ?? DEFAULT_MAX_BYTES;
          if (maxBytes <= 0) {
            // Not waited for: a body that trickles in must not hold the answer its status already gave.
            response.body.dump().catch(() => undefined);
            return new DecodedResponse(response.statusCode, response.headers as IncomingHttpHeaders, [], false);
          }
          const codings = isBodiless(response.statusCode) ? [] : codingsToDecode(response.headers['content-encoding']);
          if (codings === null) {
            await response.body.dump().catch(() => undefined);
            throw new OutboundError('undecodable', `the answer is in an encoding this client cannot decode (Content-Encoding: ${String(response.headers['content-encoding']).slice(0, 40)})`);
          }
          const read = await readBody(decoded(response.body, codings), maxBytes, request.byteFilter?.());
          const { 'content-encoding': _encoding, 'content-length': _length, ...headers } = response.headers as IncomingHttpHeaders;
          return new DecodedResponse(response.statusCode, codings.length > 0 ? headers : response.headers as IncomingHttpHeaders, read.pieces, read.isTruncated);
        }
        await response.body.dump();
        if (hop >= maxRedirects) throw new OutboundError('too_many_redirects', `more than ${maxRedirects} redirects`);
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new OutboundError('invalid_url', 'a redirect pointed to an invalid URL');
        }
        next = parseTarget(next.toString(), request.guarded);
        if (next.origin !== url.origin) headers = withoutHeaders(headers, ORIGIN_BOUND_HEADERS);
        // 303 always, and 301/302 after a POST (as every browser does), continue with a GET.
        if (response.statusCode === 303 || ((response.statusCode === 301 || response.statusCode === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
          headers = withoutHeaders(headers, Object.keys(headers).filter((name) => name.toLowerCase().startsWith('content-')));
        }
        url = next;
      }
    } catch (error) {
      throw toOutboundError(error, deadline, request.timeoutMs, request.signal);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#guarded.close(), this.#direct.close(), this.#guardedOnce.close(), this.#directOnce.close()]);
  }
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  const dropped = new Set(names.map((name) => name.toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !dropped.has(name.toLowerCase())));
}

/**
 * The longest wait any outside answer's Retry-After gets: an hour. Whoever asked for more (a
 * day, a date in the year 5000, a number too long to be a number) is tried again after an hour
 * and told so again if it still means it; a runtime, provider, calendar or webhook receiver can
 * never park a bot, a sync or a delivery beyond that, nor hand us a time the database cannot hold.
 */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Retry-After in seconds or as an HTTP date (RFC 9110 section 10.2.3), as whole milliseconds from
 * now, at most MAX_RETRY_AFTER_MS (a longer wait, however written, reads as the cap); null if
 * absent or unreadable. The one reader of Retry-After: every caller gets a bounded integer.
 */
export function parseRetryAfterMs(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, nowMs: number): number | null {
  const value = headers['retry-after'];
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  // Digits only: a count of seconds, however long (Number reads 400 digits as Infinity).
  if (/^\d+$/.test(trimmed)) return Math.min(MAX_RETRY_AFTER_MS, Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isFinite(date) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.ceil(date - nowMs))) : null;
}
