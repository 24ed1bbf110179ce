// The kinds of entry a bot's decision log holds (bot_decisions.kind, the API's decisions[].kind).
// Every entry Rollcall writes is of one of these kinds: the column's insert type is DecisionKind
// (src/db/schema.ts), so a new kind is added here first, and the dashboard's words for it
// (src/web/client/format.ts) are checked against this list.

export const DECISION_KINDS = [
  // Booking and settings
  'scheduled', 'updated', 'shared_with_event', 'waiting_for_keeper', 'gave_way', 'unlinked_event', 'data_deleted',
  // Calendar changes
  'moved_by_calendar', 'meeting_unreadable', 'link_refused_by_provider', 'rescheduled',
  'followed_series_split', 'followed_moved_occurrence', 'followed_moved_event', 'followed_into_series',
  // Launches and the end of a bot
  'launched', 'launch_failed', 'launch_retried', 'launch_retry_moved', 'launch_confirmed', 'launch_key_changed',
  'cancelled', 'stopped', 'missed', 'failed', 'later_ending',
  // Commands to a launched bot's runtime
  'update_requested', 'stop_requested', 'update_delivered', 'stop_delivered', 'update_failed', 'stop_failed',
  // Calendar access and sync health
  'at_risk', 'access_restored', 'sync_failing', 'sync_restored',
  // Handover to a bot provider
  'handover_planned', 'handover_in_time', 'handover_at_risk', 'handed_over', 'handover_retried', 'handover_failed', 'handover_held',
  'provider_withdrawn', 'provider_bot_recorded', 'provider_replaced', 'provider_removal_requested', 'provider_bot_removed',
  'provider_removal_failed', 'provider_updated', 'provider_edit_skipped', 'provider_sync_failed', 'provider_creation_settled',
  'provider_duplicate_finished',
  // Chain mode of a series
  'chain_started', 'chain_stopped', 'chain_booked',
] as const;

export type DecisionKind = (typeof DECISION_KINDS)[number];
