// node bench/subscriber-cost.ts [--rounds=41] [--block=2000]
// What the outbound client's subscriber on undici's `undici:client:sendHeaders` diagnostics channel
// (src/adapters/outbound-http.ts) costs a launch. Sends blocks of POSTs (64 at a time, one Agent,
// a launch-sized JSON body) to a no-op HTTP server in a process of its own, each round one block
// with the subscriber and one without, in alternating order, so that the machine's noise falls on
// both sides alike. Prints each side's block times, their medians, and in how many rounds the block
// with the subscriber was the slower one (about half when it costs nothing measurable).
import { channel } from 'node:diagnostics_channel';
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const CONCURRENCY = 64;

if (process.argv[2] === '--serve') {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
} else {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '41' }, block: { type: 'string', default: '2000' } } });
  const rounds = Number(values.rounds);
  const blockSize = Number(values.block);
  const server = fork(new URL(import.meta.url).pathname, ['--serve']);
  const port = await new Promise<number>((resolve) => server.once('message', (m) => resolve(m as number)));
  const agent = new Agent({ connections: CONCURRENCY });
  // The same work as the client's subscriber: a count per connection in a WeakMap.
  const counts = new WeakMap<object, number>();
  const count = (message: unknown): void => {
    const { socket } = message as { socket: object };
    counts.set(socket, (counts.get(socket) ?? 0) + 1);
  };
  const sendHeaders = channel('undici:client:sendHeaders');
  const body = JSON.stringify({ meeting_url: 'https://zoom.us/j/81234567890', bot_name: 'Notetaker', join_at: new Date().toISOString() });

  const sendBlock = async (n: number): Promise<number> => {
    const start = performance.now();
    let sent = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (sent < n) {
        sent += 1;
        const answer = await request(`http://127.0.0.1:${port}/bots`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
        await answer.body.text();
      }
    }));
    return performance.now() - start;
  };

  for (let i = 0; i < 5; i += 1) await sendBlock(blockSize * 2);
  const without: number[] = [];
  const withSubscriber: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    for (const subscribed of round % 2 === 0 ? [false, true] : [true, false]) {
      if (subscribed) sendHeaders.subscribe(count);
      const ms = await sendBlock(blockSize);
      if (subscribed) sendHeaders.unsubscribe(count);
      (subscribed ? withSubscriber : without).push(ms);
    }
  }
  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const slower = withSubscriber.filter((ms, i) => ms > without[i]!).length;
  console.log(`blocks of ${blockSize} POSTs, ${rounds} rounds`);
  console.log(`without the subscriber: median ${median(without).toFixed(1)} ms (${without.map((ms) => ms.toFixed(0)).join(' ')})`);
  console.log(`with the subscriber:    median ${median(withSubscriber).toFixed(1)} ms (${withSubscriber.map((ms) => ms.toFixed(0)).join(' ')})`);
  console.log(`rounds where the block with the subscriber was slower: ${slower} of ${rounds}`);
  await agent.close();
  server.kill();
}
