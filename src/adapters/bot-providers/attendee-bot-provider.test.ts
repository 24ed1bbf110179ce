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
