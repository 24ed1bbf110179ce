// The one place that reads the environment. Everything else receives a frozen Config.
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { findProviderInputProblem } from './domain/provider-input-limits.ts';
import { parseEnv } from 'node:util';
import { SecretBox } from './lib/secret-box.ts';
import { DEFAULT_BOT_NAME } from './domain/bot-config.ts';

export type RunMode = 'all' | 'api' | 'dispatcher';
export type BotRuntimeKind = 'none' | 'http' | 'command' | BotProviderName;
export type BotProviderName = 'recall' | 'meetstream' | 'attendee';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  /** `sqlite:<path>` or `postgres://...` (Default: sqlite:./data/rollcall.db) */
  databaseUrl: string;
  logLevel: LogLevel;
  /** How long before a meeting starts its bot joins. (Default: 180) */
  joinLeadSeconds: number;
  /** Which loops this process runs: the HTTP API, the dispatcher, or both. (Default: all) */
  runMode: RunMode;
  /** Base URL a bot runtime uses to reach this service (status reports). (Default: http://HOST:PORT) */
  publicUrl: string;
  botRuntime: BotRuntimeKind;
  botRuntimeUrl: string | null;
  botRuntimeSecret: string | null;
  botRuntimeCommand: string | null;
  botRuntimeTimeoutMs: number;
  /** A bot provider driven directly (BOT_RUNTIME=recall|meetstream|attendee); null for other runtimes. */
  botProvider: BotProviderConfig | null;
  /** Hosts that user-supplied URLs may name even though they resolve to private addresses. */
  outboundAllowedHosts: readonly string[];
  webhookTimeoutMs: number;
  /** First webhook retry delay; doubles per attempt up to an hour. (Default: 5000) */
  webhookRetryBaseMs: number;
  /** A callback URL whose every attempt, of two messages or more, failed this long is disabled (0: never). */
  webhookDisableAfterHours: number;
  /** How long a claimed or launching schedule is held before another process may take it over. (Default: 30) */
  dispatchLeaseSeconds: number;
  /** 32-byte key (hex or base64) that seals provider credentials and webhook secrets at rest. */
  credentialsEncryptionKey: Buffer | null;
  /** Keys being rotated out: they open what they sealed, never seal (CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS, comma-separated). */
  credentialsPreviousKeys: readonly Buffer[];
  /** Requests per minute per API key; 0 turns the limit off. (Default: 600) */
  rateLimitPerMinute: number;
  /** Calendar sync (docs/calendar-sync.md). Provider base URLs are settings so tests can point them at local fakes. */
  calendar: CalendarConfig;
  /** How long a dashboard sign-in lasts before the API key must be entered again. (Default: 12) */
  dashboardSessionHours: number;
  /** How long a dashboard sign-in lasts unused; its absolute lifetime still ends it. (Default: 30) */
  dashboardSessionIdleMinutes: number;
  /**
   * Which reverse proxies' X-Forwarded-Proto and X-Forwarded-For are believed (Fastify's
   * trustProxy): false (none), true (any: only when nothing else can reach the port), or the
   * proxies' addresses and CIDR ranges. (Default: false)
   */
  trustProxy: boolean | string;
  /**
   * Whether a schedule request must carry a deduplication_key (the seed's rule). When false, a
   * request without one gets a key derived from the meeting and the occurrence. (Default: true)
   */
  isDeduplicationKeyRequired: boolean;
  /** The display name of a bot booked without bot_name, 1-200 characters. (Default: Rollcall Notetaker) */
  botDefaultName: string;
}

/** docs/providers/: one page per provider with its settings. */
export interface BotProviderConfig {
  name: BotProviderName;
  apiKey: string;
  /** The provider's base URL (Recall: the region's; MeetStream: its API; Attendee: your instance). */
  baseUrl: string;
  /** Verifies the provider's status webhooks at /api/v1/providers/<name>/webhook. */
  webhookSecret: string;
  /** How long before its join time a bot is handed to the provider. (Default: recall 900, meetstream 300, attendee 900) */
  handoverLeadSeconds: number;
  /** Bot creations per minute to stay under. (Default: 60; Recall documents 60 per workspace) */
  createsPerMinute: number;
}

export const BOT_PROVIDER_DEFAULTS: Record<BotProviderName, { handoverLeadSeconds: number; baseUrl: string | null }> = {
  // More than Recall's ten minutes, so that the bot is a scheduled bot with its own instance.
  recall: { handoverLeadSeconds: 900, baseUrl: null },
  meetstream: { handoverLeadSeconds: 300, baseUrl: 'https://api.meetstream.ai' },
  // Past Attendee's staging window (up to ten minutes), so that a moved meeting can still be updated.
  attendee: { handoverLeadSeconds: 900, baseUrl: null },
};

/** Recall.ai's region base URLs (https://docs.recall.ai/docs/regions). */
export const RECALL_REGION_URLS: Record<string, string> = {
  'us-west-2': 'https://us-west-2.recall.ai',
  'us-east-1': 'https://us-east-1.recall.ai',
  'eu-central-1': 'https://eu-central-1.recall.ai',
  'ap-northeast-1': 'https://ap-northeast-1.recall.ai',
};

export interface CalendarConfig {
  /** Google's OAuth token endpoint. (Default: https://oauth2.googleapis.com/token) */
  googleOAuthTokenUrl: string;
  /** Google Calendar API v3 base. (Default: https://www.googleapis.com/calendar/v3) */
  googleCalendarApiUrl: string;
  /** Microsoft identity platform authority, tenant included. (Default: https://login.microsoftonline.com/common) */
  microsoftLoginUrl: string;
  /** Microsoft Graph base. (Default: https://graph.microsoft.com/v1.0) */
  microsoftGraphUrl: string;
  /** How often a connection without a working push channel is polled. (Default: 300) */
  pollIntervalSeconds: number;
  /** How often a connection with a live push channel is polled anyway, in case push went quiet. (Default: 1800) */
  pushPollIntervalSeconds: number;
  /** How far ahead events are synced (Graph window) and auto-scheduled. (Default: 60) */
  syncHorizonDays: number;
  /** Push channels and subscriptions are renewed when they expire within this. (Default: 86400) */
  pushRenewBeforeSeconds: number;
  /** on | off | auto (on when PUBLIC_URL is https, which Google and Microsoft require). (Default: auto) */
  isPushEnabled: boolean;
  /** Deadline of one request to a calendar provider or feed. (Default: 15000) */
  httpTimeoutMs: number;
  /** How long a connection's syncs must keep failing before its client is told (calendar.sync_failing). (Default: 900) */
  syncFailingAfterSeconds: number;
  /** How many connections one process syncs at once. (Default: 4) */
  syncConcurrency: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/**
 * Reads settings from `env`, with a `.env` file (if present) filling only what env leaves unset.
 * The file is Rollcall's alone, so every name in it must be a setting.
 */
export function loadConfig(env: Env = process.env, envFile = '.env'): Config {
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
  return parseConfig({ ...fromFile, ...env }, { envFile: { path: envFile, keys: Object.keys(fromFile) } });
}

export const KNOWN_KEYS = new Set([
  'PORT', 'HOST', 'DATABASE_URL', 'LOG_LEVEL', 'JOIN_LEAD_SECONDS', 'RUN_MODE', 'PUBLIC_URL',
  'BOT_RUNTIME', 'BOT_RUNTIME_URL', 'BOT_RUNTIME_SECRET', 'BOT_RUNTIME_COMMAND', 'BOT_RUNTIME_TIMEOUT_MS',
  'OUTBOUND_ALLOWED_HOSTS', 'WEBHOOK_TIMEOUT_MS', 'WEBHOOK_RETRY_BASE_MS', 'WEBHOOK_DISABLE_AFTER_HOURS', 'RATE_LIMIT_PER_MINUTE', 'DISPATCH_LEASE_SECONDS', 'CREDENTIALS_ENCRYPTION_KEY', 'CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS',
  'GOOGLE_OAUTH_TOKEN_URL', 'GOOGLE_CALENDAR_API_URL', 'MICROSOFT_LOGIN_URL', 'MICROSOFT_GRAPH_URL',
  'CALENDAR_POLL_INTERVAL_SECONDS', 'CALENDAR_PUSH_POLL_INTERVAL_SECONDS', 'CALENDAR_SYNC_HORIZON_DAYS',
  'CALENDAR_PUSH_RENEW_BEFORE_SECONDS', 'CALENDAR_PUSH', 'CALENDAR_HTTP_TIMEOUT_MS', 'CALENDAR_SYNC_FAILING_AFTER_SECONDS', 'CALENDAR_SYNC_CONCURRENCY',
  'BOT_PROVIDER_API_KEY', 'BOT_PROVIDER_BASE_URL', 'BOT_PROVIDER_REGION', 'BOT_PROVIDER_WEBHOOK_SECRET',
  'BOT_PROVIDER_HANDOVER_LEAD_SECONDS', 'BOT_PROVIDER_CREATES_PER_MINUTE',
  'DASHBOARD_SESSION_HOURS', 'DASHBOARD_SESSION_IDLE_MINUTES', 'TRUST_PROXY',
  'DEDUPLICATION_KEY_REQUIRED', 'BOT_DEFAULT_NAME',
]);

/** Settings that look like ours but are not: a typo such as JOIN_LEAD_SECOND should fail loudly. */
function findUnknownRollcallKeys(env: Env): string[] {
  const ourPrefixes = ['CREDENTIALS_', 'JOIN_', 'BOT_RUNTIME', 'BOT_PROVIDER_', 'RUN_MODE', 'OUTBOUND_', 'WEBHOOK_', 'RATE_LIMIT', 'DISPATCH_', 'ROLLCALL_', 'CALENDAR_', 'DASHBOARD_', 'DEDUPLICATION_'];
  return Object.keys(env).filter(
    (key) => ourPrefixes.some((p) => key.startsWith(p)) && !KNOWN_KEYS.has(key) && !key.startsWith('ROLLCALL_TEST') && !isServiceLinkVariable(key, env[key] ?? '') && !SYSTEM_NAMES.has(key),
  );
}

/**
 * Names under one of our prefixes that others set: systemd gives a service whose unit loads
 * credentials (LoadCredential=) the directory holding them in CREDENTIALS_DIRECTORY
 * (systemd.exec(5), "Credentials").
 */
const SYSTEM_NAMES = new Set(['CREDENTIALS_DIRECTORY']);

/**
 * Variables that the shell, Node, npm, containers and CI set for their own use. However close a
 * name of theirs comes to a setting's, it is never taken for a misspelling of it.
 */
const FOREIGN_NAMES = new Set([
  'HOSTNAME', 'HOSTTYPE', 'PATH', 'HOME', 'PWD', 'OLDPWD', 'TERM', 'LANG', 'LANGUAGE', 'TZ', 'USER', 'LOGNAME', 'SHELL', 'SHLVL',
  'EDITOR', 'PAGER', 'MAIL', 'INIT_CWD', 'COLORTERM', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY',
]);
const FOREIGN_PREFIXES = /^(npm_|NODE_|LC_|XDG_|SSH_|KUBERNETES_|DOCKER_|GIT_|TERM_|GITHUB_|RUNNER_|CI_)/i;

/**
 * The setting a variable's name misspells, if any: the same letters without underscores or in
 * another case (LOGLEVEL, log_level), or, for a name of six characters or more, one or two
 * letters added, dropped, changed or swapped (DATABSE_URL, PUBLIC_ULR, TRUSTED_PROXY). Without it
 * a typo outside our prefixes starts the service on the setting's default (a fresh SQLite file
 * for DATABASE_URL).
 */
export function misspeltSetting(name: string): string | null {
  if (KNOWN_KEYS.has(name) || FOREIGN_NAMES.has(name.toUpperCase()) || FOREIGN_PREFIXES.test(name)) return null;
  const squashed = (key: string) => key.toUpperCase().replace(/[_\-.]/g, '');
  const upper = name.toUpperCase();
  let best: { key: string; distance: number } | null = null;
  for (const key of KNOWN_KEYS) {
    if (squashed(key) === squashed(name)) return key;
    if (name.length < 6 || key.length < 6) continue;
    const distance = editDistance(upper, key, 2);
    if (distance <= 2 && (best === null || distance < best.distance)) best = { key, distance };
  }
  return best?.key ?? null;
}

/** Edits (insert, delete, change, swap of neighbours) from a to b; any count over `limit` is limit + 1. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]![j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return Math.min(rows[a.length]![b.length]!, limit + 1);
}

/**
 * The variables Kubernetes gives every container for each Service in its namespace
 * (kubernetes.io, "Service" concept page, "Environment variables"): `<NAME>_SERVICE_HOST`,
 * `<NAME>_SERVICE_PORT[_<port name>]`, and the Docker-links style `<NAME>_PORT=tcp://...` and
 * `<NAME>_PORT_<n>_<TCP|UDP|SCTP>[_PROTO|_PORT|_ADDR]`. A Service named rollcall or bot-runtime
 * would otherwise stop every pod with "unknown setting(s) ROLLCALL_PORT, ...".
 */
function isServiceLinkVariable(key: string, value: string): boolean {
  if (/_SERVICE_(HOST|PORT)(_[A-Z0-9_]+)?$/.test(key)) return true;
  if (/_PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$/.test(key)) return true;
  return /_PORT$/.test(key) && /^(tcp|udp|sctp):\/\//.test(value);
}

export function parseConfig(env: Env, source: { envFile?: { path: string; keys: readonly string[] } } = {}): Config {
  const problems: string[] = [];
  const misspelt = new Map<string, string>();
  for (const key of Object.keys(env)) {
    if (key.startsWith('ROLLCALL_TEST') || isServiceLinkVariable(key, env[key] ?? '')) continue;
    const meant = misspeltSetting(key);
    if (meant !== null) misspelt.set(key, meant);
  }
  for (const [key, meant] of misspelt) problems.push(`${key} is not a setting; did you mean ${meant}?`);
  const unknown = findUnknownRollcallKeys(env).filter((key) => !misspelt.has(key));
  if (unknown.length > 0) problems.push(`unknown setting(s) ${unknown.join(', ')}; see .env.example`);
  const { envFile } = source;
  const strangers = (envFile?.keys ?? []).filter((key) => !KNOWN_KEYS.has(key) && !misspelt.has(key) && !unknown.includes(key));
  if (envFile && strangers.length > 0) problems.push(`${envFile.path} names ${strangers.join(', ')}, which ${strangers.length === 1 ? 'is not a setting' : 'are not settings'}: it holds Rollcall's settings only (see .env.example)`);

  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    // Decimal digits alone: Number() would also take 0x50, 1e3 or " 80 ", which no one means here.
    const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${key} must be an integer from ${min} to ${max} in decimal digits, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(key: string, fallback: T, allowed: readonly T[]): T => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${key} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  };
  const text = (key: string): string | null => {
    const raw = env[key];
    return raw === undefined || raw === '' ? null : raw;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    problems.push(`${key} must be true or false, got "${raw}"`);
    return fallback;
  };
  const httpUrl = (key: string, fallback: string): string => {
    const raw = text(key);
    if (raw === null) return fallback;
    if (!/^https?:\/\/[^/]+/.test(raw)) problems.push(`${key} must be an http(s) URL, got "${raw}"`);
    return raw.replace(/\/+$/, '');
  };

  const port = int('PORT', 8080, 0, 65535);
  const host = text('HOST') ?? '127.0.0.1';
  const databaseUrl = text('DATABASE_URL') ?? 'sqlite:./data/rollcall.db';
  if (!/^sqlite:.+/.test(databaseUrl) && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`DATABASE_URL must start with sqlite: or postgres://, got "${redactUrl(databaseUrl)}"`);
  }
  const botRuntime = oneOf<BotRuntimeKind>('BOT_RUNTIME', 'none', ['none', 'http', 'command', 'recall', 'meetstream', 'attendee']);
  const botRuntimeUrl = text('BOT_RUNTIME_URL');
  const botRuntimeCommand = text('BOT_RUNTIME_COMMAND');
  if (botRuntime === 'http' && botRuntimeUrl === null) problems.push('BOT_RUNTIME=http needs BOT_RUNTIME_URL');
  if (botRuntimeUrl !== null && !/^https?:\/\/[^/]+/.test(botRuntimeUrl)) {
    problems.push(`BOT_RUNTIME_URL must be an http(s) URL, got "${redactUrl(botRuntimeUrl)}"`);
  }
  if (botRuntime === 'command' && botRuntimeCommand === null) {
    problems.push('BOT_RUNTIME=command needs BOT_RUNTIME_COMMAND');
  }
  // A runtime's settings with no runtime chosen: every due bot would fail with no_runtime while the
  // operator believes launches go to the address, command or provider given. Say which to choose.
  if (botRuntime === 'none') {
    const given = env['BOT_RUNTIME'] ? `BOT_RUNTIME is none` : 'BOT_RUNTIME is not set (none: no bot is launched)';
    if (botRuntimeUrl !== null) problems.push(`BOT_RUNTIME_URL is set but ${given}: set BOT_RUNTIME=http to launch bots there, or remove BOT_RUNTIME_URL`);
    if (botRuntimeCommand !== null) problems.push(`BOT_RUNTIME_COMMAND is set but ${given}: set BOT_RUNTIME=command to launch bots with it, or remove BOT_RUNTIME_COMMAND`);
    if (text('BOT_PROVIDER_API_KEY') !== null) problems.push(`BOT_PROVIDER_API_KEY is set but ${given}: set BOT_RUNTIME to the provider (recall, meetstream or attendee), or remove BOT_PROVIDER_API_KEY`);
  }
  // The bot_name limit of the schedule request's bot_config (200 characters).
  const botDefaultName = text('BOT_DEFAULT_NAME')?.trim() ?? DEFAULT_BOT_NAME;
  if (botDefaultName.length === 0 || botDefaultName.length > 200 || /[\u0000-\u001f\u007f]/.test(botDefaultName)) problems.push(`BOT_DEFAULT_NAME must be 1 to 200 characters without control characters, got ${botDefaultName.length} characters`);
  if (botRuntime === 'recall' || botRuntime === 'meetstream' || botRuntime === 'attendee') {
    // A name the provider refuses would fail every bot booked without bot_name, at its handover.
    const problem = findProviderInputProblem(botRuntime, { botName: botDefaultName, customAttributes: {} });
    if (problem) problems.push(`BOT_DEFAULT_NAME: ${problem.problem}`);
  }
  const publicUrl = (text('PUBLIC_URL') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(publicUrl) || !URL.canParse(publicUrl)) problems.push(`PUBLIC_URL must be an http(s) URL, got "${redactUrl(publicUrl)}"`);

  const config: Config = {
    port,
    host,
    databaseUrl,
    logLevel: oneOf<LogLevel>('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    joinLeadSeconds: int('JOIN_LEAD_SECONDS', 180, 0, 86_400),
    runMode: oneOf<RunMode>('RUN_MODE', 'all', ['all', 'api', 'dispatcher']),
    publicUrl,
    botRuntime,
    botRuntimeUrl,
    botRuntimeSecret: text('BOT_RUNTIME_SECRET'),
    botRuntimeCommand,
    botRuntimeTimeoutMs: int('BOT_RUNTIME_TIMEOUT_MS', 10_000, 100, 300_000),
    botProvider: botRuntime === 'recall' || botRuntime === 'meetstream' || botRuntime === 'attendee'
      ? parseBotProvider(botRuntime, env, problems, int)
      : null,
    outboundAllowedHosts: Object.freeze(allowedHosts(text('OUTBOUND_ALLOWED_HOSTS'), problems)),
    webhookTimeoutMs: int('WEBHOOK_TIMEOUT_MS', 15_000, 100, 120_000),
    webhookRetryBaseMs: int('WEBHOOK_RETRY_BASE_MS', 5000, 10, 3_600_000),
    webhookDisableAfterHours: int('WEBHOOK_DISABLE_AFTER_HOURS', 120, 0, 8760),
    dispatchLeaseSeconds: int('DISPATCH_LEASE_SECONDS', 30, 1, 3600),
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
    credentialsEncryptionKey: null,
    credentialsPreviousKeys: [],
    calendar: Object.freeze({
      googleOAuthTokenUrl: httpUrl('GOOGLE_OAUTH_TOKEN_URL', 'https://oauth2.googleapis.com/token'),
      googleCalendarApiUrl: httpUrl('GOOGLE_CALENDAR_API_URL', 'https://www.googleapis.com/calendar/v3'),
      microsoftLoginUrl: httpUrl('MICROSOFT_LOGIN_URL', 'https://login.microsoftonline.com/common'),
      microsoftGraphUrl: httpUrl('MICROSOFT_GRAPH_URL', 'https://graph.microsoft.com/v1.0'),
      pollIntervalSeconds: int('CALENDAR_POLL_INTERVAL_SECONDS', 300, 10, 86_400),
      pushPollIntervalSeconds: int('CALENDAR_PUSH_POLL_INTERVAL_SECONDS', 1800, 10, 86_400),
      syncHorizonDays: int('CALENDAR_SYNC_HORIZON_DAYS', 60, 1, 730),
      pushRenewBeforeSeconds: int('CALENDAR_PUSH_RENEW_BEFORE_SECONDS', 86_400, 60, 7 * 86_400),
      isPushEnabled: (() => {
        const mode = oneOf<'auto' | 'on' | 'off'>('CALENDAR_PUSH', 'auto', ['auto', 'on', 'off']);
        return mode === 'auto' ? publicUrl.startsWith('https://') : mode === 'on';
      })(),
      httpTimeoutMs: int('CALENDAR_HTTP_TIMEOUT_MS', 15_000, 100, 120_000),
      syncFailingAfterSeconds: int('CALENDAR_SYNC_FAILING_AFTER_SECONDS', 900, 0, 7 * 86_400),
      syncConcurrency: int('CALENDAR_SYNC_CONCURRENCY', 4, 1, 64),
    }),
    dashboardSessionHours: int('DASHBOARD_SESSION_HOURS', 12, 1, 720),
    // From 5: last use is written at most once a minute (src/services/access/dashboard-sessions.ts).
    dashboardSessionIdleMinutes: int('DASHBOARD_SESSION_IDLE_MINUTES', 30, 5, 43_200),
    trustProxy: trustedProxies(text('TRUST_PROXY'), problems),
    isDeduplicationKeyRequired: flag('DEDUPLICATION_KEY_REQUIRED', true),
    botDefaultName,
  };
  const rawKey = text('CREDENTIALS_ENCRYPTION_KEY');
  if (rawKey !== null) {
    config.credentialsEncryptionKey = SecretBox.parseKey(rawKey);
    if (config.credentialsEncryptionKey === null) problems.push('CREDENTIALS_ENCRYPTION_KEY must be 32 bytes as 64 hex characters or base64 (e.g. openssl rand -base64 32)');
  }
  const rawPreviousKeys = text('CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS');
  if (rawPreviousKeys !== null) {
    const parts = rawPreviousKeys.split(',').map((k) => k.trim()).filter(Boolean);
    const parsed = parts.map((k) => SecretBox.parseKey(k));
    const bad = parsed.flatMap((k, i) => (k === null ? [i + 1] : []));
    if (rawKey === null) problems.push('CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS needs CREDENTIALS_ENCRYPTION_KEY, the key that seals from now on');
    else if (bad.length > 0) problems.push(`CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: key ${bad.join(', ')} of ${parts.length} is not 32 bytes as 64 hex characters or base64`);
    else config.credentialsPreviousKeys = parsed as Buffer[];
  }
  if (config.dispatchLeaseSeconds * 1000 <= config.botRuntimeTimeoutMs) {
    problems.push(`DISPATCH_LEASE_SECONDS (${config.dispatchLeaseSeconds}) must be longer than BOT_RUNTIME_TIMEOUT_MS (${config.botRuntimeTimeoutMs} ms), or a slow launch would be taken over and sent twice`);
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return Object.freeze(config);
}

/** The provider's settings; each problem is named with its setting and never quotes a secret. */
function parseBotProvider(name: BotProviderName, env: Env, problems: string[], int: (key: string, fallback: number, min: number, max: number) => number): BotProviderConfig {
  const text = (key: string): string | null => (env[key] === undefined || env[key] === '' ? null : env[key]!.trim());
  const defaults = BOT_PROVIDER_DEFAULTS[name];
  const apiKey = text('BOT_PROVIDER_API_KEY');
  if (apiKey === null) problems.push(`BOT_RUNTIME=${name} needs BOT_PROVIDER_API_KEY (the provider's API key)`);
  const webhookSecret = text('BOT_PROVIDER_WEBHOOK_SECRET');
  if (webhookSecret === null) {
    problems.push(`BOT_RUNTIME=${name} needs BOT_PROVIDER_WEBHOOK_SECRET (the secret the provider signs status webhooks with; see docs/providers/${name}.md)`);
  } else if (name === 'attendee' && !/^[A-Za-z0-9+/]+={0,2}$/.test(webhookSecret)) {
    problems.push('BOT_PROVIDER_WEBHOOK_SECRET must be the base64 webhook secret from Attendee\'s Settings -> Webhooks page');
  }
  let baseUrl = text('BOT_PROVIDER_BASE_URL');
  const region = text('BOT_PROVIDER_REGION');
  if (baseUrl !== null && !/^https?:\/\/[^/]+/.test(baseUrl)) problems.push(`BOT_PROVIDER_BASE_URL must be an http(s) URL, got "${redactUrl(baseUrl)}"`);
  if (region !== null && name !== 'recall') problems.push(`BOT_PROVIDER_REGION is for BOT_RUNTIME=recall only`);
  if (name === 'recall' && baseUrl === null) {
    if (region === null) problems.push(`BOT_RUNTIME=recall needs BOT_PROVIDER_REGION (${Object.keys(RECALL_REGION_URLS).join(', ')}: the region your Recall.ai account and API key belong to) or BOT_PROVIDER_BASE_URL`);
    else if (!(region in RECALL_REGION_URLS)) problems.push(`BOT_PROVIDER_REGION must be one of ${Object.keys(RECALL_REGION_URLS).join(', ')}, got "${region}"`);
    else baseUrl = RECALL_REGION_URLS[region]!;
  }
  if (name === 'attendee' && baseUrl === null) problems.push('BOT_RUNTIME=attendee needs BOT_PROVIDER_BASE_URL (your Attendee instance, e.g. https://attendee.example.com)');
  baseUrl ??= defaults.baseUrl ?? '';
  const handoverLeadSeconds = int('BOT_PROVIDER_HANDOVER_LEAD_SECONDS', defaults.handoverLeadSeconds, 0, 7 * 86_400);
  if (name === 'recall' && handoverLeadSeconds <= 600) {
    problems.push(`BOT_PROVIDER_HANDOVER_LEAD_SECONDS must be more than 600 for Recall.ai, got ${handoverLeadSeconds}: only a bot handed over more than ten minutes ahead gets its own instance and Recall's on-time promise`);
  }
  return Object.freeze({
    name,
    apiKey: apiKey ?? '',
    baseUrl: baseUrl.replace(/\/+$/, ''),
    webhookSecret: webhookSecret ?? '',
    handoverLeadSeconds,
    createsPerMinute: int('BOT_PROVIDER_CREATES_PER_MINUTE', 60, 1, 100_000),
  });
}

/** Drops the password from a database URL so it can be printed. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

/**
 * OUTBOUND_ALLOWED_HOSTS: host names or IP addresses, comma-separated. The guard compares a URL's
 * host alone, so an entry written with a scheme, a port or a path (`127.0.0.1:8443`,
 * `http://feeds.internal`) would never match: it stops the start, naming the entry, rather than
 * leave every request to that host refused with a message that does not mention the setting.
 */
/**
 * TRUST_PROXY: "false" or unset, "true", or a comma-separated list of IP addresses and CIDR ranges
 * (the proxies' own addresses, as this process sees them connect).
 */
function trustedProxies(value: string | null, problems: string[]): boolean | string {
  const given = value?.trim().toLowerCase() ?? 'false';
  if (given === 'false' || given === '') return false;
  if (given === 'true') return true;
  const entries = given.split(',').map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const maxPrefix = family === 6 ? 128 : 32;
    const isPrefixValid = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (family === 0 || !isPrefixValid || extra !== undefined) {
      problems.push(`TRUST_PROXY: "${entry}" is not an IP address or CIDR range (write true, false, or addresses such as 10.0.0.0/8,127.0.0.1)`);
    }
  }
  return entries.join(',');
}

function allowedHosts(value: string | null, problems: string[]): string[] {
  const hosts = (value ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const host of hosts) {
    // A bare IPv6 address is written without brackets, as in a URL's hostname or with them.
    const asInUrl = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    let parsedHost: string | null = null;
    try {
      parsedHost = new URL(`http://${asInUrl}`).host;
    } catch {
      // not a host
    }
    if (parsedHost !== asInUrl || host.includes('*')) {
      problems.push(`OUTBOUND_ALLOWED_HOSTS: "${host}" is not a host name or IP address (write each host alone, without a scheme, port, path or wildcard)`);
    }
  }
  return hosts;
}
