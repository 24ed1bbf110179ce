import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SplitCharacterFolds } from './split-character-folds.ts';

/** `bytes` through one filter in chunks of `size`, decoded. */
function through(bytes: Buffer, size: number): string {
  const filter = new SplitCharacterFolds();
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(filter.push(bytes.subarray(i, i + size)));
  out.push(filter.end());
  return Buffer.concat(out).toString('utf8');
}

/** 'SUMMARY:' + text, folded after `at` bytes of its value with `fold`, however that cuts a character. */
function foldedAt(text: string, at: number, fold = '\r\n '): Buffer {
  const value = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from('SUMMARY:'), value.subarray(0, at), Buffer.from(fold), value.subarray(at), Buffer.from('\r\n')]);
}

test('a fold that split a character is joined, whatever the character\'s length and the fold\'s form', () => {
  // é (2 bytes) cut after its first byte; € (3 bytes) after one and after two; an emoji (4 bytes) after three.
  assert.equal(through(foldedAt('Réunion', 2), 1 << 20), 'SUMMARY:Réunion\r\n');
  assert.equal(through(foldedAt('Coût 5€ net', 8), 1 << 20), 'SUMMARY:Coût 5€ net\r\n');
  assert.equal(through(foldedAt('Coût 5€ net', 9), 1 << 20), 'SUMMARY:Coût 5€ net\r\n');
  assert.equal(through(foldedAt('Call 📞 now', 8), 1 << 20), 'SUMMARY:Call 📞 now\r\n');
  for (const fold of ['\n ', '\r\n\t', '\n\t']) assert.equal(through(foldedAt('Réunion', 2, fold), 1 << 20), 'SUMMARY:Réunion\r\n', JSON.stringify(fold));
});

test('a fold between whole characters is left for the parser to unfold', () => {
  assert.equal(through(foldedAt('Réunion', 3), 1 << 20), 'SUMMARY:Ré\r\n union\r\n');
  assert.equal(through(foldedAt('Team sync', 4), 1 << 20), 'SUMMARY:Team\r\n  sync\r\n');
  // A line break that is no fold (the next line starts a property) is kept.
  assert.equal(through(Buffer.from('SUMMARY:é\r\nLOCATION:ü\r\n'), 1 << 20), 'SUMMARY:é\r\nLOCATION:ü\r\n');
});

test('chunks cut anywhere, through a fold too, give the same bytes as one chunk', () => {
  const feed = Buffer.concat([foldedAt('Réunion d\'équipe', 2), foldedAt('Coût 5€', 8, '\n '), foldedAt('📞 appel', 3, '\r\n\t'), Buffer.from('END:VEVENT\r')]);
  const whole = through(feed, feed.length);
  assert.equal(whole, 'SUMMARY:Réunion d\'équipe\r\nSUMMARY:Coût 5€\r\nSUMMARY:📞 appel\r\nEND:VEVENT\r');
  for (let size = 1; size <= 12; size++) assert.equal(through(feed, size), whole, `chunks of ${size}`);
});
