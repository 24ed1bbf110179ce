// Every code the server writes for people to read has words on the dashboard: the kinds of a
// bot's decisions (DECISION_KINDS, the only kinds bot_decisions takes) and the codes reasons start
// with (REASON_CODES). A code without words, from a newer server, still reads as words and its id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DECISION_KINDS } from '../../domain/decision-kinds.ts';
import { REASON_CODES } from '../../domain/reason-codes.ts';
import { decisionWords, isKnownDecision, launchTimerWords, reasonWords } from './format.ts';

test('every kind of decision the server writes has words of its own', () => {
  const withoutWords = DECISION_KINDS.filter((kind) => !isKnownDecision(kind) || decisionWords(kind).includes(kind));
  assert.deepEqual(withoutWords, []);
});

test('every code a reason can start with is said in words, wherever it stands in the reason', () => {
  for (const code of REASON_CODES) {
    const leading = reasonWords(`${code}: what happened`);
    assert.ok(!leading.includes(code) && leading.endsWith(': what happened'), `${code}: ${leading}`);
    // A failed handover's reason quotes the provider's answer after its own words.
    const quoted = reasonWords(`The handover was refused: ${code}: what happened`);
    assert.ok(!quoted.includes(code) && quoted.startsWith('The handover was refused: '), `${code}: ${quoted}`);
  }
  assert.equal(reasonWords('calendar_access_revoked: the calendars lost their access'), 'Calendar access lost: the calendars lost their access');
});

test('a code this page does not know yet reads as words, with its id', () => {
  assert.equal(decisionWords('paused_by_operator'), 'Paused by operator (paused_by_operator)');
  assert.equal(reasonWords('quota_exceeded: the account is over its quota'), 'Quota exceeded (quota_exceeded): the account is over its quota');
  assert.equal(launchTimerWords('parked', { launched_at: null, decisions: [] }), 'Parked (parked)');
  // A reason that starts with no code is left as it is.
  assert.equal(reasonWords('Cancelled through the API'), 'Cancelled through the API');
});

/** The server's source files (not the tests, not this page's own). */
function serverSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path.endsWith(join('web', 'client')) ? [] : serverSources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

test('the server writes reason codes only through reasonPrefix, so the list above is every code', () => {
  const root = join(import.meta.dirname, '..', '..');
  // Any text that starts with a code in the way reasons do ("snake_case: "), known or new, outside
  // the places where that shape means something else: an API error's message naming its field
  // ("ics_url: ..."), a schema's description, a connection's last_error (said in words by
  // sync-error.ts), the error catalog's meanings, and comments.
  const codeFirst = /['"`][a-z]+(?:_[a-z]+)+: /;
  const otherMeaning = /ApiError\(|description:|last_error|meaning:|^\s*(?:\*|\/\/)/;
  const raw = serverSources(root).filter((path) => !path.endsWith('reason-codes.ts')).flatMap((path) =>
    readFileSync(path, 'utf8').split('\n').flatMap((line, i) => codeFirst.test(line) && !otherMeaning.test(line) ? [`${path}:${i + 1}: ${line.trim()}`] : []));
  assert.deepEqual(raw, []);
});
