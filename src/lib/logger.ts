import { pino, stdSerializers, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config.ts';

/**
 * Structured logs. Credentials never reach a line: the request serializer drops headers, fields
 * named like secrets are censored at any depth, and text (messages, error messages and stacks,
 * string fields) is scrubbed of the shapes secrets take in URLs and headers, because an error
 * message may quote a meeting link with its password or a provider URL with a token.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({
    level,
    redact: {
      // The fast path for the common places; censorFields below covers the rest at any depth.
      paths: [
        'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
        'key', 'api_key', '*.api_key', 'secret', '*.secret', 'webhook_secret', '*.webhook_secret',
        'token', '*.token', 'status_token', '*.status_token', 'refresh_token', '*.refresh_token',
        'client_secret', '*.client_secret', 'password', '*.password',
      ],
      censor: CENSORED,
    },
    serializers: {
      // A path can carry a secret too (a client that put its key where an id goes).
      req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: scrubSecrets(redactQuery(req.url)), id: req.id }),
      err: (error: Error) => censorFields(toPlain(stdSerializers.err(error))),
    },
    formatters: {
      log: (object: Record<string, unknown>) => censorFields(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        return method.apply(this, args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg)) as Parameters<typeof method>);
      },
    },
  }, destination);
}

const CENSORED = '[redacted]';

/** Field names whose values are credentials wherever they appear. */
const SECRET_FIELD = /^(authorization|proxy-authorization|cookie|set-cookie|api_?key|x-api-key|key|secret|[\w-]*_secret|[\w-]*secret_key|[\w-]*token|password|passwd|pwd|passcode|credentials?)$/i;

/** Secrets as they appear inside text: URL parameters, auth headers, and known token shapes. */
const SECRET_PATTERNS: [RegExp, string][] = [
  // Meeting passwords (Zoom pwd, Teams p, Webex pw) and tokens in query strings and fragments.
  [/([?&#;](?:pwd|pw|p|passcode|password|pass|token|access_token|refresh_token|id_token|client_secret|code|key|api_key|apikey|sig|signature|secret|validationtoken)=)[^&#\s"'<>\\]*/gi, `$1${CENSORED}`],
  [/\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{6,}/g, `$1$2${CENSORED}`],
  [/\bwhsec_[A-Za-z0-9+/=]{6,}/g, `whsec_${CENSORED}`],
  [/\brck_[0-9A-Za-z]{6,}/g, `rck_${CENSORED}`],
  [/\brcs_[0-9a-z]{6,}/g, `rcs_${CENSORED}`],
  // Google: access tokens, refresh tokens, client secrets, private iCal addresses.
  [/\bya29\.[\w.-]+/g, `ya29.${CENSORED}`],
  [/\b1\/\/[\w.-]{10,}/g, `1//${CENSORED}`],
  [/\bGOCSPX-[\w-]+/g, `GOCSPX-${CENSORED}`],
  [/(\/calendar\/ical\/[^/\s]+\/)private-[^/\s"']+/g, `$1private-${CENSORED}`],
  // Credentials in URLs (https://user:password@host).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@"']+:)[^@/\s"']+@/gi, `$1${CENSORED}@`],
];

/** `text` with every secret shape replaced by the censor mark. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A copy of a log object with secret-named fields censored and strings scrubbed, walked without
 * recursion and only through plain objects and arrays (a request or socket is left to its own
 * serializer, never walked).
 */
function censorFields(value: unknown): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (!isPlain(value)) return value;
  const root: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  const stack: { from: Record<string, unknown> | unknown[]; to: Record<string, unknown> | unknown[]; depth: number }[] = [{ from: value, to: root, depth: 0 }];
  while (stack.length > 0) {
    const { from, to, depth } = stack.pop()!;
    for (const [key, child] of Object.entries(from)) {
      let copy: unknown = child;
      if (!Array.isArray(from) && SECRET_FIELD.test(key) && child !== null && child !== undefined && typeof child !== 'boolean') copy = CENSORED;
      else if (typeof child === 'string') copy = scrubSecrets(child);
      else if (isPlain(child) && depth < 8) {
        copy = Array.isArray(child) ? [] : {};
        stack.push({ from: child, to: copy as Record<string, unknown> | unknown[], depth: depth + 1 });
      }
      (to as Record<string, unknown>)[key] = copy;
    }
  }
  return root;
}

/** The serialized error as plain data (its own prototype, and those of its causes, are not). */
function toPlain(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value));
  } catch {
    return { type: 'Error', message: '[error that cannot be serialized]' };
  }
}

function isPlain(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Query strings can carry tokens (validationToken, pwd): keep only parameter names. */
function redactQuery(url: string): string {
  const index = url.indexOf('?');
  if (index < 0) return url;
  const names = url.slice(index + 1).split('&').map((p) => p.split('=')[0]).join('&');
  return `${url.slice(0, index)}?${names}`;
}
