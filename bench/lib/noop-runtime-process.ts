// The no-op runtime in a process of its own (forked by startNoopRuntime): it answers the
// benchmark's questions over the IPC channel and exits when the channel closes or on SIGTERM.
import { NoopRuntimeServer } from './noop-runtime.ts';

const server = new NoopRuntimeServer();

process.on('message', (message: { id: number; command: string }) => {
  void answer(message.command).then((value) => process.send!({ id: message.id, value }));
});

async function answer(command: string): Promise<unknown> {
  switch (command) {
    case 'listen':
      return server.listen();
    case 'count':
      return server.count();
    case 'snapshot':
      return server.snapshot();
    case 'reset':
      server.reset();
      return null;
    default:
      throw new Error(`unknown command ${command}`);
  }
}

const quit = () => void server.close().finally(() => process.exit(0));
process.on('disconnect', quit);
process.on('SIGTERM', quit);
