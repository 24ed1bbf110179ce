// The codes a reason can start with ("no_runtime: no bot runtime is configured"): a bot's status
// changes and end reasons, its decisions' reasons, and a failed launch's error carry them so that
// clients can branch on them, and the dashboard says each in words (src/web/client/format.ts). A
// reason written with a code takes it from here (reasonPrefix), so the list is complete.

export const REASON_CODES = [
  // Its calendars lost their access (spec section 12): not launched, cancelled at its join time.
  'calendar_access_revoked',
  // Its calendar's syncs fail: it launches on the meeting as last synced.
  'calendar_sync_failing',
  // No bot runtime is configured (BOT_RUNTIME).
  'no_runtime',
  // Its runtime or provider never reported its end: taken as finished, six hours after its meeting.
  'no_status_report',
  // A bot provider's answers that no bot could get past until an operator acts.
  'provider_request_blocked', 'provider_auth_failed', 'provider_redirected', 'provider_account_blocked',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

/** "calendar_access_revoked: ", the start of a reason with this code. */
export function reasonPrefix(code: ReasonCode): string {
  return `${code}: `;
}
