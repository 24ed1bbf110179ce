// The port every bot runtime implements. A runtime answers with one of a small closed set of
// outcomes; the dispatcher never sees an HTTP status or an exit code.

export interface LaunchRequest {
  action: 'launch';
  bot_id: string;
  meeting_url: string;
  platform: string | null;
  bot_config: Record<string, unknown>;
  events: { event_id: string; occurrence_start: string | null; start_time: string; end_time: string }[];
  scheduled_time: string;
  /** The same on every retry of this launch: a runtime drops repeats by it. */
  idempotency_key: string;
  /** Where to report progress: POST {status, message?} with Authorization: Bearer <status_token>. */
  status_url: string;
  status_token: string;
}

export type LaunchOutcome =
  | { ok: true; alreadyLaunched: boolean }
  | { ok: false; failure: 'transient' | 'rate_limited'; retryAfterMs: number | null; message: string }
  | { ok: false; failure: 'permanent'; retryAfterMs: null; message: string };

export interface BotRuntime {
  /** Short name for logs and decisions. */
  readonly name: string;
  /** False when no runtime is configured: due bots then fail with reason no_runtime. */
  readonly canLaunch: boolean;
  launch(request: LaunchRequest): Promise<LaunchOutcome>;
}

/** Used when BOT_RUNTIME is not set: every launch fails visibly instead of silently. */
export const noRuntime: BotRuntime = {
  name: 'none',
  canLaunch: false,
  launch: async () => ({ ok: false, failure: 'permanent', retryAfterMs: null, message: 'no_runtime: no bot runtime is configured (set BOT_RUNTIME)' }),
};
