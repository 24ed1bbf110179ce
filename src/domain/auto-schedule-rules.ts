// Which meetings auto-schedule books, beyond "has a meeting link, not declined, not cancelled":
// the user's rules, read against what the provider's stored event says of the calendar owner's
// part in it. Google: `organizer.self`, the owner's attendee entry (`attendees[].self`,
// `responseStatus`), `attendees[].email`, rooms marked `resource: true` (Events resource
// reference). Microsoft Graph: `isOrganizer`, `responseStatus.response`,
// `attendees[].emailAddress.address` with `type: resource` for rooms, `organizer.emailAddress`
// (event resource reference). An ICS feed names no owner, so rules about the owner's part cannot
// hold for its events.
import { LIMITS_RAW_KEY } from './event-field-limits.ts';

export interface AutoScheduleRules {
  /** `me`: only meetings the calendar's owner organizes. */
  organizer: 'anyone' | 'me';
  /** `accepted`: only meetings the owner accepted or organizes (tentative and unanswered ones are left). */
  response: 'any' | 'accepted';
  /** `external`: only meetings with someone from another email domain; `internal`: only meetings without. */
  participants: 'any' | 'external' | 'internal';
  /** `exclude`: no occurrence of a recurring series. */
  recurring: 'include' | 'exclude';
}

/** Every meeting with a link (what auto-schedule did before it had rules). */
export const DEFAULT_RULES: Readonly<AutoScheduleRules> = Object.freeze({ organizer: 'anyone', response: 'any', participants: 'any', recurring: 'include' });

/** What the stored event says of the owner's part; null where it says nothing. */
export interface MeetingFacts {
  isOrganizer: boolean | null;
  isAccepted: boolean | null;
  /**
   * Email domains of the people in the meeting (organizer included; rooms and calendars'
   * own addresses left out), lower-cased; null when the copy does not show them all.
   */
  domains: string[] | null;
  /** The copy says it belongs to a series (an invitation to one occurrence of someone else's, say). */
  isPartOfSeries: boolean;
}

interface GoogleOrGraphEvent {
  organizer?: { self?: unknown; email?: unknown; emailAddress?: { address?: unknown } };
  attendees?: { self?: unknown; email?: unknown; responseStatus?: unknown; resource?: unknown; type?: unknown; emailAddress?: { address?: unknown } }[];
  isOrganizer?: unknown;
  responseStatus?: { response?: unknown };
  guestsCanSeeOtherGuests?: unknown;
  attendeesOmitted?: unknown;
  hideAttendees?: unknown;
  recurringEventId?: unknown;
  type?: unknown;
  recurrence_id?: unknown;
  [LIMITS_RAW_KEY]?: { dropped_raw_fields?: unknown };
}

/**
 * Addresses of calendars rather than people: a Google secondary calendar organizes as
 * `…@group.calendar.google.com`, rooms are `…@resource.calendar.google.com`, holiday calendars
 * `…@group.v.calendar.google.com`.
 */
const CALENDAR_DOMAINS = /(^|\.)calendar\.google\.com$/;

export function meetingFactsOf(raw: string): MeetingFacts {
  let event: GoogleOrGraphEvent | null;
  try {
    event = JSON.parse(raw) as GoogleOrGraphEvent | null;
  } catch {
    event = null;
  }
  const unknown: MeetingFacts = { isOrganizer: null, isAccepted: null, domains: null, isPartOfSeries: false };
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return unknown;
  const isPartOfSeries = typeof event.recurringEventId === 'string' || event.type === 'occurrence' || event.type === 'exception' || typeof event.recurrence_id === 'string';
  const dropped = event[LIMITS_RAW_KEY]?.dropped_raw_fields;
  // A meeting too big to store whole lost its largest fields first: its guest list, usually.
  const isGuestListCut = Array.isArray(dropped) && dropped.some((name) => name === 'attendees' || name === '(all)');
  const attendees = Array.isArray(event.attendees) ? event.attendees.filter((a) => a !== null && typeof a === 'object') : [];
  let isOrganizer: boolean | null = null;
  let isAccepted: boolean | null = null;
  let isGuestListHidden = false;
  if (typeof event.isOrganizer === 'boolean') {
    // Graph: the owner's answer is its own field.
    isOrganizer = event.isOrganizer;
    const answer = typeof event.responseStatus?.response === 'string' ? event.responseStatus.response : null;
    isAccepted = isOrganizer || answer === 'accepted' || answer === 'organizer';
    // hideAttendees: each attendee sees only the organizer and themselves.
    isGuestListHidden = !isOrganizer && event.hideAttendees === true;
  } else if (event.organizer && typeof event.organizer === 'object' && 'email' in event.organizer) {
    // Google: the owner's own attendee entry, when the meeting has guests and the list was kept.
    isOrganizer = event.organizer.self === true;
    const self = attendees.find((a) => a.self === true);
    const answer = typeof self?.responseStatus === 'string' ? self.responseStatus : null;
    isAccepted = isOrganizer || answer === 'accepted' ? true : isGuestListCut ? null : false;
    // A guest sees only the organizer and themselves when the organizer hides the list;
    // attendeesOmitted: Google left guests out of this copy.
    isGuestListHidden = (!isOrganizer && event.guestsCanSeeOtherGuests === false) || event.attendeesOmitted === true;
  } else {
    return { ...unknown, isPartOfSeries };
  }
  const addresses: unknown[] = [];
  // The organizer's address is the owner's (or the owner's calendar's) when the owner organizes.
  if (!isOrganizer) addresses.push(event.organizer?.email ?? event.organizer?.emailAddress?.address);
  for (const attendee of attendees) {
    if (attendee.resource === true || attendee.type === 'resource') continue;
    addresses.push(attendee.email ?? attendee.emailAddress?.address);
  }
  const domains = isGuestListCut || isGuestListHidden ? null : [...new Set(addresses.flatMap((a) => {
    if (typeof a !== 'string' || !a.includes('@')) return [];
    const domain = a.slice(a.lastIndexOf('@') + 1).toLowerCase();
    return CALENDAR_DOMAINS.test(domain) ? [] : [domain];
  }))];
  return { isOrganizer, isAccepted, domains, isPartOfSeries };
}

/** The same organisation: the same domain, or one a subdomain of the other (eu.acme.com, acme.com). */
function isSameOrganisation(domain: string, own: string): boolean {
  return domain === own || domain.endsWith(`.${own}`) || own.endsWith(`.${domain}`);
}

/**
 * Why the rules leave this meeting without a bot, or null when they let auto-schedule book it.
 * `ownerEmail` is the connected account's address (its domain is "internal").
 */
export function ruleRefusal(rules: AutoScheduleRules, facts: MeetingFacts, meeting: { isRecurring: boolean; ownerEmail: string | null }): string | null {
  if (rules.recurring === 'exclude' && (meeting.isRecurring || facts.isPartOfSeries)) return 'recurring';
  if (rules.organizer === 'me' && facts.isOrganizer !== true) return facts.isOrganizer === null ? 'organizer unknown' : 'not the organizer';
  if (rules.response === 'accepted' && facts.isAccepted !== true) return facts.isAccepted === null ? 'answer unknown' : 'not accepted';
  if (rules.participants !== 'any') {
    const at = meeting.ownerEmail?.lastIndexOf('@') ?? -1;
    const ownDomain = at > 0 ? meeting.ownerEmail!.slice(at + 1).toLowerCase() : null;
    if (ownDomain === null || facts.domains === null) return 'participants unknown';
    const isExternal = facts.domains.some((domain) => !isSameOrganisation(domain, ownDomain));
    if (rules.participants === 'external' && !isExternal) return 'no external participant';
    if (rules.participants === 'internal' && isExternal) return 'external participants';
  }
  return null;
}

/**
 * Google's entry types that are no meeting (events resource, `eventType`; the Calendar API's
 * "Event types" and "Manage focus time, out of office, and working location events" guides): a
 * status the owner sets on their primary calendar (`focusTime`, `outOfOffice`,
 * `workingLocation`), a contact's yearly `birthday`, and what Gmail made of an email the owner
 * received (`fromGmail`: a flight, a hotel or restaurant booking, a ticket; Workspace updates,
 * May 2024). An invitation to a meeting is a `default` event whoever sent it.
 */
const NOT_A_MEETING_TYPES: ReadonlySet<string> = new Set(['focusTime', 'outOfOffice', 'workingLocation', 'birthday', 'fromGmail']);

/**
 * An entry that is no meeting, whatever link its notes hold (a personal meeting room written in
 * an out-of-office block, a focus-time block, a booking email's text): never booked by
 * auto-schedule, whatever the rules; the client can still book one itself. Google marks it by
 * `eventType` (NOT_A_MEETING_TYPES), which cannot change once the event is made; an entry
 * without one, or of a type not named there, is read as a meeting. Answers the entry's type, or
 * null for a meeting.
 */
export function notAMeetingEntryType(raw: string): string | null {
  let event: { eventType?: unknown } | null;
  try {
    event = JSON.parse(raw) as typeof event;
  } catch {
    return null;
  }
  const type = event !== null && typeof event === 'object' ? event.eventType : undefined;
  return typeof type === 'string' && NOT_A_MEETING_TYPES.has(type) ? type : null;
}

/** Stored rules (JSON, or null before any were set) with the defaults filled in. */
export function parseStoredRules(stored: string | null): AutoScheduleRules {
  if (stored === null) return { ...DEFAULT_RULES };
  return { ...DEFAULT_RULES, ...(JSON.parse(stored) as Partial<AutoScheduleRules>) };
}
