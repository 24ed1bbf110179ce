// The port every bot runtime implements. A runtime answers with one of a small closed set of
// outcomes; the dispatcher never sees an HTTP status or an exit code.

export interface LinkedEventInfo {
  event_id: string;
  occurrence_start: string | null;
  start_time: string;
  end_time: string;
}

export interface LaunchRequest {
  action: 'launch';
  bot_id: string;
  meeting_url: string;
  platform: string | null;
  bot_config: Record<string, unknown>;
  events: LinkedEventInfo[];
  scheduled_time: string;
  /** The same on every retry of this launch: a runtime drops repeats by it. */
  idempotency_key: string;
  /** Where to report progress: POST {status, message?} with Authorization: Bearer <status_token>. */
  status_url: string;
  status_token: string;
}

/** Sent for a bot that was already launched when its meeting changed (update) or went away (stop). */
export interface BotCommand {
  action: 'update' | 'stop';
  bot_id: string;
  reason: string;
  meeting_url: string;
  platform: string | null;
  events: LinkedEventInfo[];
  /** Unique per command and the same on its retries. */
  idempotency_key: string;
}

export type RuntimeOutcome =
  | { ok: true; alreadyDone: boolean }
  | { ok: false; failure: 'transient' | 'rate_limited'; retryAfterMs: number | null; message: string }
  | { ok: false; failure: 'permanent'; retryAfterMs: null; message: string };

export interface BotRuntime {
  /** Short name for logs and decisions. */
  readonly name: string;
  /** False when no runtime is configured: due bots then fail with reason no_runtime. */
  readonly canLaunch: boolean;
  /**
   * The most launches a minute the runtime takes, where it declares one (a provider's documented
   * limit on creating bots). Informational: the dashboard draws it over the launches per minute.
   */
  readonly launchLimitPerMinute?: number;
  launch(request: LaunchRequest): Promise<RuntimeOutcome>;
  send(command: BotCommand): Promise<RuntimeOutcome>;
}

const NO_RUNTIME: RuntimeOutcome = { ok: false, failure: 'permanent', retryAfterMs: null, message: 'no_runtime: no bot runtime is configured (set BOT_RUNTIME)' };

/** Used when BOT_RUNTIME is not set: every launch fails visibly instead of silently. */
export const noRuntime: BotRuntime = {
  name: 'none',
  canLaunch: false,
  launch: async () => NO_RUNTIME,
  send: async () => NO_RUNTIME,
};
