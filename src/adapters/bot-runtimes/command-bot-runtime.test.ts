import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandBotRuntime } from './command-bot-runtime.ts';
import type { LaunchRequest } from './bot-runtime.ts';

const request = { idempotency_key: 'launch-key-1', bot_id: 'bot_1' } as unknown as LaunchRequest;

/**
 * Whether a process is alive: it exists (signal 0 checks without signalling) and is not a zombie
 * (killed, waiting for a parent that may never reap it in a container without an init).
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

function pidIn(file: string): number {
  return Number(readFileSync(file, 'utf8').trim());
}

test('a launcher that starts the bot in the background and exits 0 is a launch at once, though the bot keeps its stderr; the bot is left running', { timeout: 15_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-command-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The usual launcher: reads the request, starts the bot and returns. The "bot" (a sleep) keeps
  // the launcher's stderr, as a bot started without redirecting it does.
  const runtime = new CommandBotRuntime({ command: `cat > ${dir}/request.json; sleep 60 > /dev/null & echo $! > ${dir}/bot.pid; exit 0`, timeoutMs: 20_000 });
  const outcome = await runtime.launch(request);
  assert.deepEqual(outcome, { ok: true, alreadyDone: false });
  assert.equal(JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8')).idempotency_key, 'launch-key-1');
  const bot = pidIn(join(dir, 'bot.pid'));
  assert.ok(isAlive(bot), 'the bot the launcher started is not killed');
  process.kill(bot, 'SIGKILL');
});

test('a command that has not exited by the timeout (one that ignores SIGTERM, say) fails the launch then, killed with what it started', { timeout: 15_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-command-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const runtime = new CommandBotRuntime({ command: `trap '' TERM; sleep 60 & echo $! > ${dir}/bot.pid; wait`, timeoutMs: 1_000 });
  const outcome = await runtime.launch(request);
  assert.equal(outcome.ok, false);
  assert.match(!outcome.ok ? outcome.message : '', /did not exit within 1000 ms/);
  const bot = pidIn(join(dir, 'bot.pid'));
  // SIGKILL reaches the group at once; the kernel reaps the sleep as soon as it is scheduled.
  for (let i = 0; i < 50 && isAlive(bot); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(isAlive(bot), false, 'what the command started is killed with it');
});

test('a command that fails says why: its exit code and the start of its stderr', async () => {
  const runtime = new CommandBotRuntime({ command: `cat > /dev/null; echo "no seat for this meeting" >&2; exit 3`, timeoutMs: 5_000 });
  const outcome = await runtime.launch(request);
  assert.deepEqual(outcome, { ok: false, failure: 'transient', retryAfterMs: null, message: 'command exited with 3: no seat for this meeting' });
  const missing = await new CommandBotRuntime({ command: 'exit 0', timeoutMs: 5_000 }).send({ idempotency_key: 'k', action: 'stop' } as never);
  assert.deepEqual(missing, { ok: true, alreadyDone: false });
});
