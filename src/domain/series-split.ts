// Google's "this and following events" ends a series and starts a new one whose id is the old
// one's with `_R<original start of the first moved occurrence>` appended (odoo/odoo PR 287171,
// google-api-php-client issue 2009). The API gives that id bare (`<id>_R20261203T090000`); a
// feed Google publishes gives it as the event's UID, with the domain after it
// (`<id>_R20191106T234500@google.com`, derekantrican/GAS-ICS-Sync issue 81), the old series' UID
// being `<id>@google.com`.

export interface SplitId {
  /** The provider id of the series the split came from. */
  baseId: string;
  /** The `_R` time: the original start of the first occurrence the continuation took over (UTC). */
  splitMs: number;
}

/** The series a split continuation's provider id comes from, or null when the id is not one. */
export function parseSplitId(providerId: string): SplitId | null {
  const match = /^(.+)_R(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z?(@[^@]+)?$/.exec(providerId);
  if (!match) return null;
  const [, stem, year, month, day, hour, minute, second, domain] = match;
  const splitMs = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  if (Number.isNaN(splitMs)) return null;
  return { baseId: `${stem}${domain ?? ''}`, splitMs };
}

/**
 * How the ids of a series' continuations begin and end: `<id>_R…`, or for a UID with a domain
 * (`<stem>@<domain>`), `<stem>_R…@<domain>`.
 */
export function continuationIdAffixes(providerId: string): { prefix: string; suffix: string } {
  const at = providerId.lastIndexOf('@');
  return at > 0 ? { prefix: `${providerId.slice(0, at)}_R`, suffix: providerId.slice(at) } : { prefix: `${providerId}_R`, suffix: '' };
}
