// Which connected calendars a request means, in MeetStream's words: `provider` (google, outlook
// or ics) and `account_id` (the account's email; only with a provider). GET /calendar,
// GET /calendar/events and POST|DELETE /calendar/disconnect read them the same way.
import type { CalendarConnectionRow } from '../../db/schema.ts';
import { ApiError } from '../../errors.ts';
import type { ProviderKind } from '../../adapters/calendars/calendar-provider.ts';

/** Provider names as the API speaks them (MeetStream's, plus ics). */
export const PROVIDER_NAMES = ['google', 'outlook', 'ics'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** An event's `platform` for each provider. */
export type EventPlatform = 'google_calendar' | 'outlook_calendar' | 'ics';

export interface CalendarScopeInput {
  provider?: string;
  account_id?: string;
}

/** provider null: every provider; accountId null: every account of it. */
export interface CalendarScope {
  provider: ProviderName | null;
  accountId: string | null;
}

export function parseCalendarScope(input: CalendarScopeInput): CalendarScope {
  const provider = input.provider ?? null;
  if (provider !== null && !(PROVIDER_NAMES as readonly string[]).includes(provider)) {
    throw new ApiError('validation_error', `provider: must be one of ${PROVIDER_NAMES.join(', ')}`, { details: { field: 'provider' } });
  }
  const accountId = input.account_id ?? null;
  if (accountId !== null && provider === null) {
    throw new ApiError('validation_error', `account_id: give provider (${PROVIDER_NAMES.join(', ')}) with it`, { details: { field: 'account_id' } });
  }
  return { provider: provider as ProviderName | null, accountId };
}

export function providerNameOf(kind: ProviderKind): ProviderName {
  return kind === 'microsoft' ? 'outlook' : kind;
}

export function platformOf(name: ProviderName): EventPlatform {
  return name === 'google' ? 'google_calendar' : name === 'outlook' ? 'outlook_calendar' : 'ics';
}

/**
 * Whether a connection is in the scope. Account ids are emails and compared without case; an ICS
 * feed has no account id (its stored one is a hash of the URL, never shown), so a scope with an
 * account_id never names one.
 */
export function matchesScope(connection: Pick<CalendarConnectionRow, 'provider' | 'account_id'>, scope: CalendarScope): boolean {
  const name = providerNameOf(connection.provider as ProviderKind);
  if (scope.provider !== null && name !== scope.provider) return false;
  if (scope.accountId === null) return true;
  return name !== 'ics' && connection.account_id.toLowerCase() === scope.accountId.toLowerCase();
}
