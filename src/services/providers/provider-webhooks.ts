// POST /providers/{name}/webhook: a bot provider reports status. The provider's signature over
// the raw body is the authentication; the configured runtime verifies it and maps the provider's
// status, and the status-report use case moves the bot (and queues the user's webhook).
import type { Logger } from 'pino';
import type { BotRuntime } from '../../adapters/bot-runtimes/bot-runtime.ts';
import { isBotStatus } from '../../domain/bot-status.ts';
import { ApiError } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import type { ProviderStatusReportResult, ProviderStatusReports } from '../scheduling/bot-status-reports.ts';

export type ProviderWebhookResult = ProviderStatusReportResult | { ignored: true };

export class ProviderWebhooks {
  readonly #runtime: BotRuntime;
  readonly #reports: ProviderStatusReports;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(deps: { runtime: BotRuntime; reports: ProviderStatusReports; clock: Clock; logger: Logger }) {
    this.#runtime = deps.runtime;
    this.#reports = deps.reports;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  async accept(providerName: string, headers: Record<string, string | string[] | undefined>, rawBody: string): Promise<ProviderWebhookResult> {
    const verifier = this.#runtime.statusWebhooks;
    if (this.#runtime.name !== providerName || verifier === null) {
      throw new ApiError('provider_not_configured', `provider_name: this deployment does not run bots on ${providerName} (BOT_RUNTIME is ${this.#runtime.name})`, { details: { field: 'provider_name' } });
    }
    const parsed = verifier.parse(headers, rawBody, this.#clock.now());
    if (!parsed.ok) {
      this.#logger.warn({ provider: providerName, reason: parsed.reason }, 'provider webhook refused');
      if (parsed.reason === 'bad_signature') throw new ApiError('invalid_provider_signature', `The ${providerName} webhook signature does not verify: ${parsed.message}`);
      throw new ApiError('invalid_provider_webhook', `body: ${parsed.message}`, { details: { field: 'body' } });
    }
    if (parsed.event === null) return { ignored: true };
    const { status, kicked, ...event } = parsed.event;
    return this.#reports.report({ ...event, provider: providerName, status: status !== null && isBotStatus(status) ? status : null, kicked: kicked === true });
  }
}
