import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config.ts';

/**
 * Structured logs. Credentials never reach a line: the request serializer drops headers, and
 * known secret-bearing fields are censored wherever they appear.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
        'key', 'api_key', '*.api_key', 'secret', '*.secret', 'webhook_secret', '*.webhook_secret',
        'token', '*.token', 'status_token', '*.status_token', 'refresh_token', '*.refresh_token',
        'client_secret', '*.client_secret', 'password', '*.password',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: redactQuery(req.url), id: req.id }),
    },
  }, destination);
}

/** Query strings can carry tokens (validationToken, pwd): keep only parameter names. */
function redactQuery(url: string): string {
  const index = url.indexOf('?');
  if (index < 0) return url;
  const names = url.slice(index + 1).split('&').map((p) => p.split('=')[0]).join('&');
  return `${url.slice(0, index)}?${names}`;
}
