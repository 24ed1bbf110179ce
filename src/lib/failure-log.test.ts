import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { FailureLog } from './failure-log.ts';

function capture() {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { lines, logger };
}

test('the first failures of a window are logged in full, the rest counted in one line at its end; the next window starts afresh', async () => {
  const { lines, logger } = capture();
  const log = new FailureLog(logger, 'bot launch failed', { perWindow: 3, windowMs: 100 });
  for (let i = 1; i <= 1000; i++) log.note({ botId: `bot_${i}`, reason: `runtime answered 500 (${i})` });
  assert.deepEqual(lines.map((l) => l.botId), ['bot_1', 'bot_2', 'bot_3']);
  assert.ok(lines.every((l) => l.msg === 'bot launch failed' && l.level === 40));
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(lines.length, 4);
  assert.equal(lines[3]!.more, 997);
  assert.equal(lines[3]!.last.botId, 'bot_1000');
  assert.match(lines[3]!.msg, /^bot launch failed: 997 more in the last 0\.1 s/);
  log.note({ botId: 'bot_next' });
  assert.equal(lines.at(-1)!.botId, 'bot_next', 'a new window logs in full again');
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(lines.length, 5, 'no summary for a window with nothing held back');
});

test('a flush (a stop) says at once what the window held back', () => {
  const { lines, logger } = capture();
  const log = new FailureLog(logger, 'webhook delivery attempt failed', { perWindow: 1, windowMs: 60_000 });
  log.note({ botId: 'a' });
  log.note({ botId: 'b' });
  log.note({ botId: 'c' });
  log.flush();
  assert.deepEqual(lines.map((l) => [l.botId ?? null, l.more ?? null]), [['a', null], [null, 2]]);
  log.flush();
  assert.equal(lines.length, 2, 'nothing more to say');
});
