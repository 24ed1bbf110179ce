/**
 * How far ahead a recurring series is expanded: 1,830 days (five years). The events list expands
 * series this far after time_min (or now), a `schedule_all_occurrences` batch books this far after
 * its booking at most, and the questions about a series' next occurrences that have no end of
 * their own stop here. A rule that seldom matches, or a daily rule whose next decades are all
 * removed by EXDATE values, would otherwise be searched to its 10,000-instance cap (seconds of
 * work in one step) or to year 9999; no one books a meeting bot further ahead than this.
 */
export const SERIES_HORIZON_MS = 1830 * 86_400_000;
