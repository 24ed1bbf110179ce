// The failure a calendar provider adapter reports, for tests that expect one.
import assert from 'node:assert/strict';
import { CalendarProviderError, type ProviderFailure } from '../../src/adapters/calendars/calendar-provider.ts';

/** Awaits `work`, which must fail with a CalendarProviderError; answers its failure. */
export async function providerFailureOf(work: Promise<unknown>): Promise<ProviderFailure> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof CalendarProviderError, `expected a CalendarProviderError, got ${String(error)}`);
    return error.failure;
  }
  assert.fail('expected a provider failure');
}
