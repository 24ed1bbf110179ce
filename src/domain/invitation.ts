// The calendar owner's answer to an invitation, read from the provider's stored event
// (events.raw): Google marks the owner's own attendee entry (`attendees[].self` with its
// `responseStatus`: needsAction, declined, tentative, accepted; Events resource reference),
// Microsoft Graph gives the owner's answer as `responseStatus.response` (none, organizer,
// tentativelyAccepted, accepted, declined, notResponded; event resource reference). ICS feeds
// carry no answer Rollcall reads.

/** Values that say the owner has not answered. */
const NO_ANSWER = new Set(['needsAction', 'none', 'notResponded']);

/** The owner's answer (`declined`, `accepted`, ...), or null when the event records none. */
export function ownerAnswerOf(raw: string): string | null {
  let parsed: { attendees?: unknown; responseStatus?: { response?: unknown } } | null;
  try {
    parsed = JSON.parse(raw) as typeof parsed;
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  const self = Array.isArray(parsed.attendees) ? (parsed.attendees as { self?: unknown; responseStatus?: unknown }[]).find((a) => a?.self === true) : undefined;
  const answer = typeof self?.responseStatus === 'string' ? self.responseStatus : typeof parsed.responseStatus?.response === 'string' ? parsed.responseStatus.response : null;
  return answer === null || NO_ANSWER.has(answer) ? null : answer;
}

/** True when the owner of the calendar the event came from declined it. */
export function isDeclinedInvitation(raw: string): boolean {
  return ownerAnswerOf(raw) === 'declined';
}

/**
 * Whether an occurrence of a series is declined, given the series' answer (ownerAnswerOf, read
 * once per series): its own answer, recorded on its override as Google does for an answer to one
 * occurrence, wins.
 */
export function isDeclinedOccurrence(seriesAnswer: string | null, override: { raw: string } | null): boolean {
  return ((override ? ownerAnswerOf(override.raw) : null) ?? seriesAnswer) === 'declined';
}
