// Whether the calendar's owner declined an invitation, read from the provider's stored event
// (events.raw): Google marks the owner's own attendee entry (`attendees[].self` with
// `responseStatus: declined`, Events resource reference), Microsoft Graph gives the owner's answer
// as `responseStatus.response` (event resource reference). ICS feeds carry no answer Rollcall reads.

/** True when the owner of the calendar the event came from declined it. */
export function isDeclinedInvitation(raw: string): boolean {
  try {
    const parsed = JSON.parse(raw) as { attendees?: { self?: boolean; responseStatus?: string }[]; responseStatus?: { response?: string } } | null;
    if (parsed === null || typeof parsed !== 'object') return false;
    if (Array.isArray(parsed.attendees) && parsed.attendees.some((a) => a?.self === true && a.responseStatus === 'declined')) return true;
    return parsed.responseStatus?.response === 'declined';
  } catch {
    return false;
  }
}
