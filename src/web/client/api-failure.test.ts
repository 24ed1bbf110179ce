// A refusal in words: the API's message when the answer carries one as text, else its status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureText } from './api-failure.ts';

test('the API\'s own message is shown', () => {
  assert.equal(failureText(422, { error: 'start_at must be in the future', message: 'start_at must be in the future', code: 'invalid_field' }), 'start_at must be in the future');
  assert.equal(failureText(400, { error: 'meeting_url is missing' }), 'meeting_url is missing');
});

test('a gateway\'s JSON whose error is an object is described by its status, never as "[object Object]"', () => {
  const gateway = { error: { code: 'upstream_unavailable', message: 'no healthy upstream' } };
  assert.equal(failureText(502, gateway), 'The server answered 502: it may be restarting or overloaded. Try again shortly.');
  assert.equal(failureText(404, { message: { text: 'x' }, error: ['y'] }), 'The server answered 404.');
  assert.equal(failureText(503, { error: '' }), 'The server answered 503: it may be restarting or overloaded. Try again shortly.');
});

test('an answer that is not JSON at all is described by its status', () => {
  assert.equal(failureText(504, null), 'The server answered 504: it may be restarting or overloaded. Try again shortly.');
});
