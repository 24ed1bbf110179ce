import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAttendeeWebhook } from './attendee-bot-provider.ts';

const SECRET = 'YXR0ZW5kZWUtc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY=';

// The body as Attendee's sender writes it (Python's json.dumps: ", " and ": "), for the change that
// ends a bot's run where credits are charged: credits_consumed is centicredits / 100, a Python float
// (bots/models.py of attendee-labs/attendee). The signature was made with the sign_payload function
// of Attendee's docs/webhooks.md (json.dumps with sort_keys, ensure_ascii=False and no spaces) run by
// Python 3 over this payload, not by Rollcall's code.
const ENDED = '{"idempotency_key": "7b0c5b1e-1111-4c1e-9c1e-000000000001", "bot_id": "bot_abc", "bot_metadata": {"rollcall_bot_id": "bot_1"}, "trigger": "bot.state_change", "data": {"new_state": "ended", "old_state": "post_processing", "created_at": "2026-12-05T10:00:00.123456+00:00", "event_type": "post_processing_completed", "event_sub_type": null, "event_metadata": {"bot_duration_seconds": 3590, "credits_consumed": 1.0}}}';
const ENDED_SIGNATURE = 'TBEn02VUf+UkWcQ0bs5aIDNkC6GI1/8rByOIazlfgKg=';

test('a signature over a whole float (credits_consumed 1.0) holds: numbers are signed as they were written', () => {
  const parsed = parseAttendeeWebhook(SECRET, { 'x-webhook-signature': ENDED_SIGNATURE }, ENDED);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  assert.deepEqual([parsed.event?.status, parsed.event?.rollcallBotId], ['Done', 'bot_1']);
  // The same body with 1 for 1.0 is another payload to Attendee: its signature no longer holds.
  const altered = parseAttendeeWebhook(SECRET, { 'x-webhook-signature': ENDED_SIGNATURE }, ENDED.replace('1.0}', '1}'));
  assert.deepEqual([altered.ok, !altered.ok && altered.reason], [false, 'bad_signature']);
});

// A bot's metadata holds the client's own attribute names: integer-like ones, and characters
// either side of the surrogates. Python sorts them by code point ("10" before "2"; U+FF21 before
// U+1F600). Signed by Python 3 with the sign_payload function of Attendee's docs/webhooks.md.
const KEYS = '{"idempotency_key": "7b0c5b1e-2222-4c1e-9c1e-000000000002", "bot_id": "bot_abc", "bot_metadata": {"rollcall_bot_id": "bot_1", "2": "a", "10": "b", "\\uff21": "fullwidth", "\\ud83d\\ude00": "emoji", "\\u00e9": "e-acute"}, "trigger": "bot.state_change", "data": {"new_state": "joined_recording", "old_state": "joined_not_recording", "created_at": "2026-12-05T10:00:00.123456+00:00", "event_type": "bot_recording_permission_granted", "event_sub_type": null, "event_metadata": {}}}';
const KEYS_SIGNATURE = 'uay6hOsyoVTNwqfPRjMOvT0RVOvcpuuke7057bmxqjg=';

test('a signature over keys Python and JavaScript order differently holds: integer-like names and characters past U+FFFF', () => {
  const parsed = parseAttendeeWebhook(SECRET, { 'x-webhook-signature': KEYS_SIGNATURE }, KEYS);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  assert.equal(parsed.event?.status, 'Recording');
});
