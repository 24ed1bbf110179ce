import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findProviderInputProblem, pythonJsonLength, type ProviderInput } from './provider-input-limits.ts';

const plain: ProviderInput = { botName: 'Notetaker', customAttributes: {}, platform: 'zoom' };

test('the length of Python\'s json.dumps text (vectors printed by Python 3\'s json.dumps with its defaults)', () => {
  assert.equal(pythonJsonLength({}), 2);
  assert.equal(pythonJsonLength({ team: 'core' }), 16);
  // Beyond ASCII: \u00e9, two BMP characters, a surrogate pair.
  assert.equal(pythonJsonLength({ a: 'é', b: '日本', c: '😀' }), 57);
  // Quotes, a backslash, short escapes, a control and DEL.
  assert.equal(pythonJsonLength({ q: 'say "hi"\\', ctl: '\n\t\u0001\u007f' }), 48);
  assert.equal(pythonJsonLength({ k: 'x'.repeat(951) }), 960);
  assert.equal(pythonJsonLength({ rollcall_bot_id: `bot_${'x'.repeat(22)}` }), 49);
});

test('every provider: a meeting on a platform it joins passes; one it does not is refused, naming meeting_url', () => {
  for (const provider of ['recall', 'attendee', 'meetstream'] as const) {
    for (const platform of ['zoom', 'google_meet', 'microsoft_teams'] as const) assert.equal(findProviderInputProblem(provider, { ...plain, platform }), null, `${provider} ${platform}`);
    for (const platform of ['bluejeans', 'whereby'] as const) assert.equal(findProviderInputProblem(provider, { ...plain, platform })?.field, 'meeting_url', `${provider} ${platform}`);
    // A host Rollcall does not recognise is the provider's to judge (Recall joins zoom-x.de links).
    assert.equal(findProviderInputProblem(provider, { ...plain, platform: null }), null, `${provider} unknown host`);
  }
  // Recall also joins Webex and GoTo Meeting (its meeting-URL guide); the others do not.
  assert.equal(findProviderInputProblem('recall', { ...plain, platform: 'webex' }), null);
  assert.equal(findProviderInputProblem('recall', { ...plain, platform: 'gotomeeting' }), null);
  assert.match(findProviderInputProblem('attendee', { ...plain, platform: 'webex' })!.problem, /Attendee\) does not join Webex meetings; it joins Zoom, Google Meet, Microsoft Teams/);
  assert.equal(findProviderInputProblem('meetstream', { ...plain, platform: 'gotomeeting' })?.field, 'meeting_url');
});

test('Recall: bot_name of 1 to 100 characters, counted as characters, not UTF-16 units', () => {
  assert.equal(findProviderInputProblem('recall', { ...plain, botName: 'x'.repeat(100) }), null);
  assert.equal(findProviderInputProblem('recall', { ...plain, botName: '😀'.repeat(100) }), null);
  assert.match(findProviderInputProblem('recall', { ...plain, botName: 'x'.repeat(101) })!.problem, /1 to 100 characters .* got 101/);
  assert.equal(findProviderInputProblem('recall', { ...plain, botName: '' })?.field, 'bot_name');
  // Attributes: Recall documents no limit on them.
  assert.equal(findProviderInputProblem('recall', { ...plain, customAttributes: { k: 'x'.repeat(5000) } }), null);
});

test('Attendee: no blank bot_name nor one beyond the Basic Multilingual Plane; custom_attributes within its metadata budget beside Rollcall\'s own entry', () => {
  assert.equal(findProviderInputProblem('attendee', { ...plain, botName: 'Protokoll – 日本' }), null);
  assert.equal(findProviderInputProblem('attendee', { ...plain, botName: 'x'.repeat(200) }), null);
  assert.equal(findProviderInputProblem('attendee', { ...plain, botName: '   ' })?.field, 'bot_name');
  assert.match(findProviderInputProblem('attendee', { ...plain, botName: 'Notes 📝' })!.problem, /beyond U\+FFFF/);
  // 1,000 in all, 49 of them Rollcall's: 951 for the client's.
  const fits = { k: 'x'.repeat(951 - 9) };
  assert.equal(pythonJsonLength(fits), 951);
  assert.equal(findProviderInputProblem('attendee', { ...plain, customAttributes: fits }), null);
  const over = { k: 'x'.repeat(951 - 8) };
  assert.match(findProviderInputProblem('attendee', { ...plain, customAttributes: over })!.problem, /custom_attributes are 952 characters .* at most 951/);
  // Counted as Attendee counts: an é is six characters there.
  assert.equal(findProviderInputProblem('attendee', { ...plain, customAttributes: { k: 'é'.repeat(160) } })?.field, 'custom_attributes');
  // MeetStream documents no such limits.
  assert.equal(findProviderInputProblem('meetstream', { ...plain, botName: '📝'.repeat(150), customAttributes: over }), null);
});
