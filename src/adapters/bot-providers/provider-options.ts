// What every bot provider adapter is built with (from the settings, in the composition root).

import type { OutboundHttp } from '../outbound-http.ts';

export interface ProviderRuntimeOptions {
  apiKey: string;
  /** The provider's base URL, without a trailing slash. */
  baseUrl: string;
  /** Verifies the provider's status webhooks. */
  webhookSecret: string;
  /** How long before the join time a bot is handed over (used by the handover plan). */
  handoverLeadMs: number;
  /** Bot creations per minute the provider allows. */
  createsPerMinute: number;
  /** Deadline of one request to the provider. */
  timeoutMs: number;
  /** The service's one outbound HTTP client. */
  http: OutboundHttp;
  now: () => number;
  /**
   * The provider's id for a Rollcall bot, as recorded when the launch was accepted; null when it is
   * not recorded (yet). Update and stop commands name the Rollcall bot; this finds the provider's.
   */
  resolveProviderBotId: (botId: string) => Promise<string | null>;
}
