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
  /** Per launch key, the generation of the key an adapter sends next (Recall after a 507). */
  keyGenerations: KeyGenerations;
}

/**
 * Where an adapter keeps how far it moved on from a launch's idempotency key whose cached answer
 * is a failure. In the database (src/store/provider-key-store.ts), so that a restarted process or
 * another instance sends the key that can still succeed, not one whose failure is cached.
 */
export interface KeyGenerations {
  /** 0 while the key never had to move on. */
  current(key: string): Promise<number>;
  /**
   * Kept after a creation under the key is accepted too: a launch sent again (its result was not
   * written, another instance took it over) must go under the key Recall answers with that bot.
   */
  moveOn(key: string, generation: number): Promise<void>;
}

/** Generations in this process's memory, for a runtime without a database (unit tests, tools). */
export function keyGenerationsInMemory(): KeyGenerations {
  const generations = new Map<string, number>();
  return {
    current: async (key) => generations.get(key) ?? 0,
    moveOn: async (key, generation) => {
      generations.set(key, Math.max(generation, generations.get(key) ?? 0));
    },
  };
}
