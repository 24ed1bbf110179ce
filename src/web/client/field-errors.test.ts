// Which field a refusal is about, from the API's answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiFailure } from './api-failure.ts';
import { failedField, isFieldIn } from './field-errors.ts';

test('the field is the one details.field names', () => {
  const error = new ApiFailure('scheduled_join_time is after the meeting ends (2026-12-05T07:30:00.000Z)', 400, 'invalid_join_at', { field: 'scheduled_join_time' });
  assert.equal(failedField(error), 'scheduled_join_time');
});

test('without details, the field path the message starts with', () => {
  assert.equal(failedField(new ApiFailure('default_bot_config.join_at: belongs to one meeting, not to every meeting', 400, 'invalid_bot_config')), 'default_bot_config.join_at');
  assert.equal(failedField(new ApiFailure('The server answered 503: it may be restarting or overloaded. Try again shortly.', 503, 'http_error')), null);
  assert.equal(failedField(new Error('scheduled_join_time is wrong')), null, 'only the API names fields');
});

test('a field is in the path that holds it, not in one that only starts alike', () => {
  assert.equal(isFieldIn('default_bot_config.join_at', 'default_bot_config'), true);
  assert.equal(isFieldIn('default_bot_config', 'default_bot_config'), true);
  assert.equal(isFieldIn('default_bot_configs', 'default_bot_config'), false);
  assert.equal(isFieldIn(null, 'rules.organizer'), false);
});
