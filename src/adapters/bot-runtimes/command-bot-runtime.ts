// BOT_RUNTIME=command: runs an executable with the launch request (or an update/stop command) as
// JSON on stdin; exit 0 means accepted, any other exit means try again later.
import { spawn } from 'node:child_process';
import type { BotCommand, BotRuntime, LaunchRequest, RuntimeOutcome } from './bot-runtime.ts';

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
      const child = spawn(this.#command, { shell: true, stdio: ['pipe', 'ignore', 'pipe'], timeout: this.#timeoutMs, env: { ...process.env, ROLLCALL_IDEMPOTENCY_KEY: idempotencyKey } });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 2000) stderr += chunk.toString('utf8');
      });
      child.on('error', (error) => resolve({ ok: false, failure: 'transient', retryAfterMs: null, message: `command failed to start: ${error.message}` }));
      child.on('close', (code, signal) => {
        if (code === 0) resolve({ ok: true, alreadyDone: false });
        else resolve({ ok: false, failure: 'transient', retryAfterMs: null, message: signal ? `command killed by ${signal}` : `command exited with ${code}${stderr ? `: ${stderr.trim().slice(0, 500)}` : ''}` });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(JSON.stringify(message));
    });
  }
}
