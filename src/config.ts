// The one place that reads the environment. Everything else receives a frozen Config.
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { SecretBox } from './lib/secret-box.ts';

export type RunMode = 'all' | 'api' | 'dispatcher';
export type BotRuntimeKind = 'none' | 'http' | 'command';
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
  /** Hosts that user-supplied URLs may name even though they resolve to private addresses. */
  outboundAllowedHosts: readonly string[];
  webhookTimeoutMs: number;
  /** First webhook retry delay; doubles per attempt up to an hour. (Default: 5000) */
  webhookRetryBaseMs: number;
  /** How long a claimed or launching schedule is held before another process may take it over. (Default: 30) */
  dispatchLeaseSeconds: number;
  /** 32-byte key (hex or base64) that seals provider credentials and webhook secrets at rest. */
  credentialsEncryptionKey: Buffer | null;
  /** Requests per minute per API key; 0 turns the limit off. (Default: 600) */
  rateLimitPerMinute: number;
  /** Calendar sync (docs/calendar-sync.md). Provider base URLs are settings so tests can point them at local fakes. */
  calendar: CalendarConfig;
  /** How long a dashboard sign-in lasts before the API key must be entered again. (Default: 12) */
  dashboardSessionHours: number;
}

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
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** Reads settings from `env`, with a `.env` file (if present) filling only what env leaves unset. */
export function loadConfig(env: Env = process.env, envFile = '.env'): Config {
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
  return parseConfig({ ...fromFile, ...env });
}

export const KNOWN_KEYS = new Set([
  'PORT', 'HOST', 'DATABASE_URL', 'LOG_LEVEL', 'JOIN_LEAD_SECONDS', 'RUN_MODE', 'PUBLIC_URL',
  'BOT_RUNTIME', 'BOT_RUNTIME_URL', 'BOT_RUNTIME_SECRET', 'BOT_RUNTIME_COMMAND', 'BOT_RUNTIME_TIMEOUT_MS',
  'OUTBOUND_ALLOWED_HOSTS', 'WEBHOOK_TIMEOUT_MS', 'WEBHOOK_RETRY_BASE_MS', 'RATE_LIMIT_PER_MINUTE', 'DISPATCH_LEASE_SECONDS', 'CREDENTIALS_ENCRYPTION_KEY',
  'GOOGLE_OAUTH_TOKEN_URL', 'GOOGLE_CALENDAR_API_URL', 'MICROSOFT_LOGIN_URL', 'MICROSOFT_GRAPH_URL',
  'CALENDAR_POLL_INTERVAL_SECONDS', 'CALENDAR_PUSH_POLL_INTERVAL_SECONDS', 'CALENDAR_SYNC_HORIZON_DAYS',
  'CALENDAR_PUSH_RENEW_BEFORE_SECONDS', 'CALENDAR_PUSH', 'CALENDAR_HTTP_TIMEOUT_MS',
  'DASHBOARD_SESSION_HOURS',
]);

/** Settings that look like ours but are not: a typo such as JOIN_LEAD_SECOND should fail loudly. */
function findUnknownRollcallKeys(env: Env): string[] {
  const ourPrefixes = ['CREDENTIALS_', 'JOIN_', 'BOT_RUNTIME', 'RUN_MODE', 'OUTBOUND_', 'WEBHOOK_', 'RATE_LIMIT', 'DISPATCH_', 'ROLLCALL_', 'CALENDAR_', 'DASHBOARD_'];
  return Object.keys(env).filter(
    (key) => ourPrefixes.some((p) => key.startsWith(p)) && !KNOWN_KEYS.has(key) && !key.startsWith('ROLLCALL_TEST'),
  );
}

export function parseConfig(env: Env): Config {
  const problems: string[] = [];
  const unknown = findUnknownRollcallKeys(env);
  if (unknown.length > 0) problems.push(`unknown setting(s) ${unknown.join(', ')}; see .env.example`);

  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${key} must be an integer from ${min} to ${max}, got "${raw}"`);
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
  const botRuntime = oneOf<BotRuntimeKind>('BOT_RUNTIME', 'none', ['none', 'http', 'command']);
  const botRuntimeUrl = text('BOT_RUNTIME_URL');
  const botRuntimeCommand = text('BOT_RUNTIME_COMMAND');
  if (botRuntime === 'http' && botRuntimeUrl === null) problems.push('BOT_RUNTIME=http needs BOT_RUNTIME_URL');
  if (botRuntimeUrl !== null && !/^https?:\/\/[^/]+/.test(botRuntimeUrl)) {
    problems.push(`BOT_RUNTIME_URL must be an http(s) URL, got "${redactUrl(botRuntimeUrl)}"`);
  }
  if (botRuntime === 'command' && botRuntimeCommand === null) {
    problems.push('BOT_RUNTIME=command needs BOT_RUNTIME_COMMAND');
  }
  const publicUrl = (text('PUBLIC_URL') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(publicUrl)) problems.push(`PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);

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
    outboundAllowedHosts: Object.freeze(
      (text('OUTBOUND_ALLOWED_HOSTS') ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
    ),
    webhookTimeoutMs: int('WEBHOOK_TIMEOUT_MS', 15_000, 100, 120_000),
    webhookRetryBaseMs: int('WEBHOOK_RETRY_BASE_MS', 5000, 10, 3_600_000),
    dispatchLeaseSeconds: int('DISPATCH_LEASE_SECONDS', 30, 1, 3600),
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
    credentialsEncryptionKey: null,
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
    }),
    dashboardSessionHours: int('DASHBOARD_SESSION_HOURS', 12, 1, 720),
  };
  const rawKey = text('CREDENTIALS_ENCRYPTION_KEY');
  if (rawKey !== null) {
    config.credentialsEncryptionKey = SecretBox.parseKey(rawKey);
    if (config.credentialsEncryptionKey === null) problems.push('CREDENTIALS_ENCRYPTION_KEY must be 32 bytes as 64 hex characters or base64 (e.g. openssl rand -base64 32)');
  }
  if (config.dispatchLeaseSeconds * 1000 <= config.botRuntimeTimeoutMs) {
    problems.push(`DISPATCH_LEASE_SECONDS (${config.dispatchLeaseSeconds}) must be longer than BOT_RUNTIME_TIMEOUT_MS (${config.botRuntimeTimeoutMs} ms), or a slow launch would be taken over and sent twice`);
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return Object.freeze(config);
}

/** Drops the password from a database URL so it can be printed. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
