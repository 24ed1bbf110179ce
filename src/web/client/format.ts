// Times, statuses and decisions in words people read.
import type { DecisionKind } from '../../domain/decision-kinds.ts';
import type { ReasonCode } from '../../domain/reason-codes.ts';
import { parseOccurrenceKey } from '../../domain/occurrence-key.ts';

/**
 * The language of the page's words. Dates and times are written in it too, in the viewer's time
 * zone: a browser set to German would otherwise put "Sa., 5. Dez." in an English sentence.
 */
export const UI_LOCALE = 'en';

const dateTime = new Intl.DateTimeFormat(UI_LOCALE, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(UI_LOCALE, { hour: '2-digit', minute: '2-digit' });
const relative = new Intl.RelativeTimeFormat(UI_LOCALE, { numeric: 'auto' });

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

const dateAndShortTime = new Intl.DateTimeFormat(UI_LOCALE, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * A meeting's time from start to end, without seconds, its date said once when both are on one
 * day of the viewer's zone ("Dec 7, 2026, 12:00 – 1:00 PM"), both dates when it runs over
 * midnight ("Dec 7, 2026, 11:00 PM – Dec 8, 2026, 1:00 AM"). An end that is missing, unreadable or
 * not after the start leaves the start alone.
 */
export function formatTimeRange(startIso: string, endIso: string | null | undefined): string {
  const start = new Date(startIso);
  if (Number.isNaN(start.getTime())) return '—';
  const end = endIso ? new Date(endIso) : null;
  if (end === null || Number.isNaN(end.getTime()) || end.getTime() <= start.getTime()) return dateAndShortTime.format(start);
  return dateAndShortTime.formatRange(start, end);
}

const fullInstant = new Intl.DateTimeFormat(UI_LOCALE, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset' });

/** An instant in full, with its offset from UTC and the zone's name: "Saturday, December 5, 2026 at 02:05:00 PM GMT+01:00 (Europe/Berlin)". */
export function formatInstant(iso: string): string {
  return `${fullInstant.format(new Date(iso))} (${timeZone})`;
}

/** The viewer's zone as a short name ("UTC", "PST", "GMT+5:30"), for a column of times to say which zone they are in. */
export function zoneAbbreviation(at = new Date()): string {
  return new Intl.DateTimeFormat(UI_LOCALE, { timeZoneName: 'short' }).formatToParts(at).find((part) => part.type === 'timeZoneName')?.value ?? timeZone;
}

export function formatClock(iso: string): string {
  return timeOnly.format(new Date(iso));
}

const dayAndTime = new Intl.DateTimeFormat(UI_LOCALE, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** Calendar days from `nowMs`'s day to `iso`'s, in the browser's zone. */
function daysAway(iso: string, nowMs: number): number {
  const midnight = (ms: number) => {
    const date = new Date(ms);
    return Date.UTC(date.getFullYear(), date.getMonth(), date.getDate());
  };
  return Math.round((midnight(Date.parse(iso)) - midnight(nowMs)) / 86_400_000);
}

/**
 * A time of day, with its day when that is not today: "04:35 PM", "tomorrow 04:35 PM",
 * "Dec 6, 04:35 PM". Charts reach up to two days ahead; a bare clock time there is ambiguous.
 */
export function formatClockWithDay(iso: string, nowMs = Date.now()): string {
  const days = daysAway(iso, nowMs);
  if (days === 0) return formatClock(iso);
  if (days === 1 || days === -1) return `${relative.format(days, 'day')} ${formatClock(iso)}`;
  return dayAndTime.format(new Date(iso));
}

/** "1 bot", "3 bots". */
export function countOf(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** An ISO 8601 instant as the API writes them (with seconds, milliseconds and an offset or Z optional). */
const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})/g;

/**
 * A text from the server (a decision's reason, a status change's) with the instants it names in
 * the browser's zone and format, like every other time on the page: the server writes them in UTC
 * ("Unless access returns before 2026-12-04T21:38:00.000Z").
 */
export function withLocalTimes(text: string): string {
  return text.replace(ISO_INSTANT, (iso) => {
    const ms = Date.parse(iso);
    return Number.isFinite(ms) ? formatDateTime(iso) : iso;
  });
}

/**
 * An occurrence's key as the server writes it (its original start in UTC, basic format:
 * `20261207T100000Z`, occurrenceKey) as an ISO instant; null for anything else, an impossible
 * date (February 30) among them.
 */
export function occurrenceKeyInstant(key: string): string | null {
  const ms = parseOccurrenceKey(key);
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * An occurrence's key in the browser's zone, without seconds ("Dec 7, 2026, 11:00 AM"); the key as
 * it is when it is not one. An all-day series' occurrence (`allDayZone`: the zone whose midnights
 * its keys are, allDayZone in src/domain/all-day.ts) by its date as the calendar has it, with no
 * time ("Dec 7, 2026"): its key is that midnight, the day before for a viewer west of the zone.
 */
export function occurrenceKeyWords(key: string, allDayZone: string | null = null): string {
  const iso = occurrenceKeyInstant(key);
  if (iso === null) return key;
  return allDayZone === null ? formatTimeRange(iso, null) : calendarDateWords(iso, allDayZone);
}

/**
 * The day an all-day event's midnight (`iso`) is in its zone (`zone`, allDayZone), as the calendar
 * has it ("Dec 7, 2026"), whatever the viewer's zone; a zone the browser does not know is read as
 * UTC. The date as it is when `iso` is not one.
 */
export function calendarDateWords(iso: string, zone: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return calendarDateFormat(zone).format(at);
}

/**
 * An all-day event's days, from its start to its end (the midnight after its last day, as
 * calendars give it), in its zone: "Dec 7, 2026" for one day, "Dec 7 – 9, 2026" for three.
 */
export function allDayRangeWords(startIso: string, endIso: string | null | undefined, zone: string): string {
  const start = new Date(startIso);
  if (Number.isNaN(start.getTime())) return '—';
  const end = endIso ? new Date(endIso) : null;
  // The last day is the one before the end's midnight (a day of 23 or 25 hours included).
  const lastDay = end === null || Number.isNaN(end.getTime()) || end.getTime() <= start.getTime() ? start : new Date(end.getTime() - 1);
  return calendarDateFormat(zone).formatRange(start, lastDay);
}

/** When an event is, as the lists say it: its days for an all-day one (`allDayZone` given, allDayRangeWords), else its times (formatTimeRange). */
export function eventWhenWords(startIso: string, endIso: string | null | undefined, allDayZone: string | null): string {
  return allDayZone === null ? formatTimeRange(startIso, endIso) : allDayRangeWords(startIso, endIso, allDayZone);
}

/**
 * The hover text of an event's time: its start and end to the second for a timed one; for an
 * all-day one (`allDayZone` given), its days as the calendar has them, whatever the viewer's zone
 * ("Dec 7, 2026, all day"), since its midnights in the viewer's zone are not its days.
 */
export function eventWhenTitle(startIso: string, endIso: string, allDayZone: string | null): string {
  return allDayZone === null ? `${formatInstant(startIso)} to ${formatInstant(endIso)}` : `${allDayRangeWords(startIso, endIso, allDayZone)}, all day`;
}

function calendarDateFormat(zone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat(UI_LOCALE, { dateStyle: 'medium', timeZone: zone });
  } catch {
    return new Intl.DateTimeFormat(UI_LOCALE, { dateStyle: 'medium', timeZone: 'UTC' });
  }
}

/** "occurrence 20261207T100000Z", as the server's reasons name one occurrence of a series by its key. */
const OCCURRENCE_BY_KEY = /\b(occurrence|Occurrence) (\d{8}T\d{6}(?:\.\d{3})?Z)(?![\w:-])/g;

/**
 * A text with the occurrences it names by key ("The occurrence 20261207T100000Z of series evt_…
 * was cancelled") named by their start in local time: "The occurrence on Dec 7, 2026, 11:00 AM of
 * series evt_… was cancelled".
 */
export function withLocalOccurrences(text: string): string {
  return text.replace(OCCURRENCE_BY_KEY, (whole, lead: string, key: string) => {
    const iso = occurrenceKeyInstant(key);
    return iso === null ? whole : `${lead} on ${formatTimeRange(iso, null)}`;
  });
}

/** Words for every code a reason can start with (REASON_CODES): the type fails to compile when one is missing. */
const REASON_CODE_WORDS: Record<ReasonCode, string> = {
  calendar_access_revoked: 'Calendar access lost',
  calendar_sync_failing: 'Calendar not syncing',
  no_runtime: 'No bot runtime is set up',
  no_status_report: 'Its end was never reported',
  provider_request_blocked: 'Blocked by the bot provider\'s firewall',
  provider_auth_failed: 'The bot provider refused the API key',
  provider_redirected: 'The bot provider\'s address redirects',
  provider_account_blocked: 'The bot provider\'s account is blocked',
};

const KNOWN_REASON_CODE = new RegExp(`\\b(${Object.keys(REASON_CODE_WORDS).join('|')}): `, 'g');
/** A code that starts a reason ("some_new_code: ..."), known here or not. */
const LEADING_CODE = /^([a-z][a-z0-9]*(?:_[a-z0-9]+)+): /;

/**
 * A reason from the server (a status change's, an end's, a decision's, a failed launch's error) as
 * people read it: the codes it carries for clients ("calendar_access_revoked: ...") in words, one
 * this page does not know yet by its id made readable, and its instants in local time (an
 * occurrence it names by its key too).
 */
export function reasonWords(text: string): string {
  const worded = text.replace(KNOWN_REASON_CODE, (_, code: ReasonCode) => `${REASON_CODE_WORDS[code]}: `)
    .replace(LEADING_CODE, (_, code: string) => `${codeFallbackWords(code)}: `);
  return durationsInWords(withLocalOccurrences(withLocalTimes(worded)));
}

/** A duration as the server writes it in a reason: "900 s", "10000 ms", "2.5 min"; a number, after a space or bracket or first, that is a word of its own. */
const WRITTEN_DURATION = /(?<![^\s(])(\d+(?:\.\d+)?) (ms|s|min)\b/g;
const SECONDS_PER_UNIT: Record<string, number> = { ms: 0.001, s: 1, min: 60 };

/**
 * A text with the durations the server writes in short ("joins 180 s before the start", "sent again
 * once it cannot be running any more (900 s)", "no answer within 10000 ms", "2.5 min") in words:
 * "3 minutes", "15 minutes", "10 seconds", "2 minutes 30 seconds".
 */
export function durationsInWords(text: string): string {
  return text.replace(WRITTEN_DURATION, (_, amount: string, unit: string) => durationWords(Number(amount) * SECONDS_PER_UNIT[unit]!));
}

/**
 * A number of seconds in words, in the largest whole units that say it: 180 → "3 minutes", 3600 →
 * "1 hour", 90 → "1 minute 30 seconds", 5400 → "1 hour 30 minutes", 45 → "45 seconds", 1.5 →
 * "1.5 seconds", 0.25 → "250 milliseconds", 0 → "0 seconds". Past an hour, seconds are rounded to
 * the minute. The unit is chosen after rounding: 59.96 is "1 minute", not "60 seconds".
 */
export function durationWords(seconds: number): string {
  if (seconds === 0) return countOf(0, 'second');
  const milliseconds = Math.round(seconds * 1000);
  if (milliseconds < 1000) return countOf(milliseconds, 'millisecond');
  const tenths = Math.round(seconds * 10) / 10;
  if (tenths < 60) return countOf(tenths, 'second');
  const whole = Math.round(seconds);
  if (whole < 3600) {
    const [m, s] = [Math.floor(whole / 60), whole % 60];
    return s === 0 ? countOf(m, 'minute') : `${countOf(m, 'minute')} ${countOf(s, 'second')}`;
  }
  const minutes = Math.round(seconds / 60);
  const [h, m] = [Math.floor(minutes / 60), minutes % 60];
  return m === 0 ? countOf(h, 'hour') : `${countOf(h, 'hour')} ${countOf(m, 'minute')}`;
}

/**
 * "in 5 minutes", "2 hours ago", "tomorrow", "in 3 days". A day or more away is counted in
 * calendar days of the browser's zone: 30 hours from 10 PM is the day after tomorrow, which a
 * count of 24-hour periods would call "tomorrow".
 */
export function formatRelative(iso: string | null | undefined, nowMs = Date.now()): string {
  if (!iso) return '';
  const seconds = Math.round((Date.parse(iso) - nowMs) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(daysAway(iso, nowMs), 'day');
}

const STATUS_WORDS: Record<string, string> = {
  Scheduled: 'Scheduled',
  Joining: 'Joining',
  InWaitingRoom: 'In waiting room',
  InMeeting: 'In meeting',
  Recording: 'Recording',
  Leaving: 'Leaving',
  Stopped: 'Stopped',
  Done: 'Done',
  NotAllowed: 'Not allowed',
  Denied: 'Denied',
  Error: 'Error',
  Cancelled: 'Cancelled',
  Missed: 'Missed',
};

export function statusWords(status: string): string {
  return STATUS_WORDS[status] ?? status;
}

/** A tone per status, for the badge's colour; the text always says the status too. */
export function statusTone(status: string): 'waiting' | 'active' | 'good' | 'bad' | 'neutral' {
  switch (status) {
    case 'Scheduled': return 'waiting';
    case 'Joining': case 'InWaitingRoom': case 'InMeeting': case 'Recording': case 'Leaving': return 'active';
    case 'Done': case 'Stopped': case 'delivered': case 'active': return 'good';
    case 'Error': case 'Missed': case 'NotAllowed': case 'Denied': case 'failed': case 'retrying': case 'auth_revoked': case 'failing': return 'bad';
    default: return 'neutral';
  }
}

/** Words for every kind of decision the server writes (DECISION_KINDS): the type fails to compile when one is missing. */
const DECISION_WORDS: Record<DecisionKind, string> = {
  scheduled: 'Scheduled',
  updated: 'Settings changed',
  shared_with_event: 'Shared with another event of the same meeting',
  waiting_for_keeper: 'Waiting: another bot goes to this meeting at the same time',
  gave_way: 'Cancelled: another bot joins this meeting instead',
  moved_by_calendar: 'Followed a calendar change',
  meeting_unreadable: 'Kept at its time: the calendar lists its series with an occurrence it cannot read',
  link_refused_by_provider: 'Warning: the bot provider refuses its new link',
  unlinked_event: 'An event stopped using this bot',
  rescheduled: 'Join time moved',
  launched: 'Launched: handed to the bot runtime',
  launch_failed: 'Launch attempt failed',
  launch_retried: 'Launch tried again',
  launch_confirmed: 'Runtime confirmed the launch',
  update_requested: 'Runtime asked to update the bot',
  stop_requested: 'Runtime asked to stop the bot',
  update_delivered: 'Runtime accepted the update',
  stop_delivered: 'Runtime accepted the stop',
  update_failed: 'Runtime refused the update',
  stop_failed: 'Runtime refused the stop',
  launch_retry_moved: 'Launch retry moved: the meeting moved',
  cancelled: 'Cancelled',
  stopped: 'Stopped before its launch was taken',
  later_ending: 'A second ending reported: the first ending stands',
  missed: 'Missed: the meeting ended before it could join',
  failed: 'Failed',
  at_risk: 'At risk: its calendar lost its access',
  access_restored: 'Calendar access came back',
  sync_failing: 'Its calendar stopped syncing: launches on the meeting as last synced',
  sync_restored: 'Its calendar syncs again',
  handover_planned: 'Handover to the bot provider planned',
  handover_in_time: 'Handover plan fits in time again',
  handover_at_risk: 'At risk: the provider cannot take it in time',
  handed_over: 'Handed over to the bot provider',
  handover_retried: 'Handover tried again',
  handover_failed: 'Handover failed',
  handover_held: 'Not handed over: its calendar lost its access',
  provider_withdrawn: 'Withdrawn from the bot provider: its calendar lost its access',
  launch_key_changed: 'Launched under a key of its own: its handover got no answer',
  provider_bot_recorded: 'The bot provider named its bot',
  provider_replaced: 'Replaced at the bot provider',
  provider_removal_requested: 'Bot provider asked to remove its bot',
  provider_bot_removed: 'Removed at the bot provider',
  provider_removal_failed: 'Could not be removed at the bot provider',
  provider_updated: 'Updated at the bot provider',
  provider_edit_skipped: 'Change not sent to the bot provider',
  provider_sync_failed: 'Bot provider refused the change',
  provider_creation_settled: 'A creation that got no answer made no other bot',
  provider_duplicate_finished: 'A second bot at the bot provider had finished already',
  chain_started: 'Series chained: each next occurrence is booked in turn',
  chain_booked: 'Next occurrence of the series booked',
  chain_stopped: 'Series chain stopped: no further occurrence is booked',
  data_deleted: 'Stored data deleted',
  followed_series_split: 'Followed the series into its continuation',
  followed_moved_occurrence: 'Followed its occurrence to its new id (series moved to another day)',
  followed_moved_event: 'Followed its meeting to another calendar of the account',
  followed_into_series: 'Followed its occurrence into its series, which arrived since',
};

/** "Some new kind (some_new_kind)": a code without words of its own, readable and still searchable by its id. */
export function codeFallbackWords(code: string): string {
  const words = code.replace(/_/g, ' ').trim().replace(/^./, (c) => c.toUpperCase());
  return words === '' ? code : `${words} (${code})`;
}

export function isKnownDecision(kind: string): kind is DecisionKind {
  return Object.hasOwn(DECISION_WORDS, kind);
}

/** A decision's kind in words; a kind this page does not know yet (a newer server) by its id, made readable. */
export function decisionWords(kind: string): string {
  return isKnownDecision(kind) ? DECISION_WORDS[kind] : codeFallbackWords(kind);
}

/**
 * Decisions that are launch attempts and their outcomes, and a bot's final failure (a launch given
 * up, say). With a bot provider as the runtime, the bot reaches its meeting through its handover:
 * the provider is given the bot ahead of its join time and joins it itself.
 */
export function isLaunchDecision(kind: string): boolean {
  return kind.startsWith('launch') || kind === 'failed' || kind.startsWith('handover') || kind === 'handed_over';
}

/**
 * Where a bot's launch timer stands (the API's schedule_state: pending, then claimed and launching
 * while it fires, done, or cancelled), in words.
 */
export function launchTimerWords(state: string | null, bot: { launched_at: string | null; decisions: readonly { kind: string }[] }): string {
  switch (state) {
    case 'pending': return bot.launched_at === null ? 'Waiting to launch' : 'Waiting to try the launch again';
    case 'claimed': case 'launching': return 'Launching now';
    case 'done': return bot.decisions.some((d) => d.kind === 'handed_over') ? 'Done: handed over to the bot provider' : 'Done: nothing left to launch';
    case 'cancelled': return 'Cancelled: it will not be launched';
    default: return state === null ? '—' : codeFallbackWords(state);
  }
}

/**
 * Where a live bot's meeting came from (the API's `source`), as Upcoming's Source column says it:
 * a connected calendar's event, auto-schedule, or none: no live event of a connected calendar (an
 * event made with POST /calendar/events, a meeting link given to create_bot, or a calendar meeting
 * the bot stayed in after its event left the calendar), whoever booked its bot then (said beneath
 * it, originBesideSource).
 */
export const SOURCE_WORDS: Record<string, string> = { api: 'No calendar', calendar: 'Calendar', auto_schedule: 'Auto-schedule' };

export const PLATFORM_WORDS: Record<string, string> = { zoom: 'Zoom', google_meet: 'Google Meet', teams: 'Microsoft Teams', microsoft_teams: 'Microsoft Teams', webex: 'Webex' };

export function platformWords(platform: string | null): string {
  return platform === null ? 'Other' : PLATFORM_WORDS[platform] ?? platform;
}

/**
 * A datetime-local input's value for an instant, in the browser's zone, to the second (join times
 * carry seconds: a value cut to the minute would move the bot when sent back unchanged).
 */
export function toLocalInputValue(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** The instant a datetime-local value names in the browser's zone, as ISO 8601 with Z. */
export function fromLocalInputValue(value: string): string | null {
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
