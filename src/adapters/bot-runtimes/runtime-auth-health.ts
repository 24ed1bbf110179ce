// Whether the bot provider accepts this deployment's API key and account, as seen in its answers.
// A provider that refuses the key (401/403) or the account (no credit left), or whose base URL
// redirects, refuses every bot, so the instance says it is not ready, with the reason, until an answer from the provider
// is accepted again. Every call to the runtime goes
// through the watch, so launches, handovers, late edits and commands all count.
import type { BotRuntime, RuntimeOutcome } from './bot-runtime.ts';

export class RuntimeAuthHealth {
  #problem: string | null = null;
  #since: number | null = null;
  #isBlockingEveryBot = false;

  /** Why the instance is not ready (the provider's latest refusal of the key), or null. */
  get problem(): string | null {
    return this.#problem === null ? null : `${this.#problem} (since ${new Date(this.#since!).toISOString()})`;
  }

  /**
   * `isCreation`: the answer was to a bot creation. An account out of credit still takes deletes,
   * updates and look-ups: only a creation accepted says it takes bots again.
   */
  observe(outcome: RuntimeOutcome, nowMs: number, isCreation = false): void {
    if (outcome.ok) {
      if (this.#isBlockingEveryBot && !isCreation) return;
      this.#problem = null;
      this.#since = null;
      this.#isBlockingEveryBot = false;
    } else if ((outcome.failure === 'permanent' && outcome.isAuthFailure) || (outcome.failure !== 'permanent' && outcome.blocksEveryBot)) {
      if (this.#problem === null) this.#since = nowMs;
      this.#problem = outcome.message;
      this.#isBlockingEveryBot = outcome.failure !== 'permanent';
    }
  }
}

/** The runtime, with every answer it gives reported to `health`. */
export function watchRuntimeAuth(runtime: BotRuntime, health: RuntimeAuthHealth, now: () => number): BotRuntime {
  const seen = async <T extends RuntimeOutcome>(call: Promise<T>, isCreation = false): Promise<T> => {
    const outcome = await call;
    health.observe(outcome, now(), isCreation);
    return outcome;
  };
  const scheduling = runtime.scheduling;
  const live = runtime.live;
  return {
    name: runtime.name,
    canLaunch: runtime.canLaunch,
    statusWebhooks: runtime.statusWebhooks,
    scheduling: scheduling && {
      rules: scheduling.rules,
      settingsOf: scheduling.settingsOf,
      update: (id, change, key) => seen(scheduling.update(id, change, key)),
      delete: (id) => seen(scheduling.delete(id)),
      ...(scheduling.findLostCreation ? { findLostCreation: async (key, sentAtMs, options) => {
        const found = await scheduling.findLostCreation!(key, sentAtMs, options);
        if (found !== null) health.observe(found.ok ? { ok: true, alreadyDone: true } : found, now());
        return found;
      } } : {}),
    },
    live: live && { leave: (id) => seen(live.leave(id)) },
    launch: (request) => seen(runtime.launch(request), true),
    send: (command) => seen(runtime.send(command)),
    close: async () => runtime.close?.(),
  };
}
