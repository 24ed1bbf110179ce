// BOT_RUNTIME=command: runs an executable with the launch request (or an update/stop command) as
// JSON on stdin; exit 0 means accepted, any other exit means try again later.
//
// The command's own exit decides, not the end of its output: the usual launcher starts the bot in
// the background and returns, and a bot that inherits the launcher's stderr holds that pipe open
// for its whole meeting. Waiting for the pipe to close held each launch (and, once every launch
// slot was taken, every later bot) for as long as the meetings lasted. The stderr a failing
// command writes is read for a moment after it exits, for the message.
//
// Each command runs in a process group of its own. One that has not exited by the timeout is
// killed with everything it started (SIGKILL to the group; spawn's own timeout signals the shell
// alone, and a command that ignores SIGTERM ran on): a launch that did not finish should not leave
// a bot behind to join beside the one the retry starts (one that left the group, a daemon, is the
// command's own to settle by the idempotency key). A command that has exited is never signalled.
import { spawn, type ChildProcess } from 'node:child_process';
import type { BotCommand, BotRuntime, LaunchRequest, RuntimeOutcome } from './bot-runtime.ts';

/** How long the stderr of a command that failed is read after it exits, for the failure's message. */
const STDERR_GRACE_MS = 200;
/** What is kept of a failing command's stderr. */
const STDERR_KEPT = 2000;

export class CommandBotRuntime implements BotRuntime {
  readonly name = 'command';
  readonly canLaunch = true;
  // The command decides what a launch, an update or a stop means; status comes through the status
  // route with the per-launch token.
  readonly scheduling = null;
  readonly live = null;
  readonly statusWebhooks = null;
  readonly #command: string;
  readonly #timeoutMs: number;

  constructor(options: { command: string; timeoutMs: number }) {
    this.#command = options.command;
    this.#timeoutMs = options.timeoutMs;
  }

  launch(request: LaunchRequest): Promise<RuntimeOutcome> {
    return this.#run(request, request.idempotency_key);
  }

  send(command: BotCommand): Promise<RuntimeOutcome> {
    return this.#run(command, command.idempotency_key);
  }

  #run(message: LaunchRequest | BotCommand, idempotencyKey: string): Promise<RuntimeOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: RuntimeOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(outcome);
      };
      const child = spawn(this.#command, { shell: true, detached: true, stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, ROLLCALL_IDEMPOTENCY_KEY: idempotencyKey } });
      const deadline = setTimeout(() => {
        killGroup(child);
        settle({ ok: false, failure: 'transient', retryAfterMs: null, message: `command did not exit within ${this.#timeoutMs} ms; it was killed with what it started` });
      }, this.#timeoutMs);
      let stderr = '';
      // Read to the end whoever holds it (a bot left running), keeping the start only.
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < STDERR_KEPT) stderr += chunk.toString('utf8');
      });
      child.stderr.on('error', () => {});
      child.on('error', (error) => settle({ ok: false, failure: 'transient', retryAfterMs: null, message: `command failed to start: ${error.message}` }));
      child.on('exit', (code, signal) => {
        // Exited: nothing of it is killed any more, whatever it left running.
        clearTimeout(deadline);
        if (code === 0) return settle({ ok: true, alreadyDone: false });
        const fail = () => settle({ ok: false, failure: 'transient', retryAfterMs: null, message: signal ? `command killed by ${signal}` : `command exited with ${code}${stderr ? `: ${stderr.trim().slice(0, 500)}` : ''}` });
        if (child.stderr.readableEnded) return fail();
        child.stderr.once('end', fail);
        setTimeout(fail, STDERR_GRACE_MS).unref();
      });
      child.stdin.on('error', () => {});
      child.stdin.end(JSON.stringify(message));
    });
  }
}

/** SIGKILL to the command's process group (it leads one: spawned detached), or to it alone if the group is gone. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
