// WAL checkpoints of the server's SQLite file, on a worker thread of their own.
//
// In WAL mode a commit appends pages to the -wal file, and from time to time those pages are
// copied back into the database file (a checkpoint, with an fsync of each file). By default the
// connection that commits past 1,000 WAL pages does it, inside that commit. node:sqlite runs on
// the event loop's thread, so that commit stalls everything: measured on 10,000 launch
// confirmations (2 cores), checkpoints were half of the commit time, about 60 ms of the burst.
//
// Here a second connection on a worker thread checkpoints every CHECKPOINT_EVERY_MS, PASSIVE
// (it never waits for, nor blocks, the writer). The server's own connection keeps a safety net: it
// checkpoints itself only past FALLBACK_PAGES, which it reaches only if the worker is gone or
// cannot keep up. No library offers this for node:sqlite; it is one pragma on a timer.
import { Worker } from 'node:worker_threads';
import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from 'pino';
import { settledWithin } from '../lib/deadline.ts';

/** How often the worker checkpoints (a checkpoint with nothing new to copy costs next to nothing). */
export const CHECKPOINT_EVERY_MS = 1000;

/** The server's connection checkpoints itself past this many WAL pages (32 MB at 4 KB pages). */
export const FALLBACK_PAGES = 8192;

/**
 * The -wal file is cut back to this size when it starts over. SQLite reuses a WAL from its start
 * once everything in it has been checkpointed and never shrinks it by itself, so one burst (or a
 * reader that held checkpoints back for a while) would keep its size on disk for good.
 */
export const WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024;

export interface BackgroundCheckpoints {
  stop(): Promise<void>;
}

/** Starts checkpointing `file` (the database `connection` writes) on a worker thread. */
export function startBackgroundCheckpoints(connection: DatabaseSync, file: string, logger: Logger): BackgroundCheckpoints {
  connection.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_PAGES}`);
  // The connection that writes is the one that starts the log over, and cuts it then.
  connection.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  const worker = new Worker(new URL('./sqlite-checkpoint-worker.ts', import.meta.url), { workerData: { file, everyMs: CHECKPOINT_EVERY_MS } });
  // Never what keeps the process alive.
  worker.unref();
  let isStopping = false;
  // Listened for from the start: a worker that has already ended has nothing left to wait for.
  const exited = new Promise<boolean>((resolve) => worker.once('exit', () => resolve(true)));
  worker.on('message', ({ problem }: { problem: string | null }) => {
    if (problem) logger.warn({ problem }, 'background WAL checkpoint failed; the server checkpoints itself past the fallback size');
    else logger.info('background WAL checkpoints work again');
  });
  worker.on('error', (error) => logger.error({ err: error }, 'the WAL checkpoint worker failed; the server checkpoints itself past the fallback size'));
  worker.on('exit', (code) => {
    if (!isStopping) logger.warn({ code }, 'the WAL checkpoint worker stopped; the server checkpoints itself past the fallback size');
  });
  return {
    async stop() {
      isStopping = true;
      worker.postMessage('stop');
      // Its last checkpoint is given a moment; a worker that does not end by then is ended.
      if (!(await settledWithin(exited, STOP_DEADLINE_MS, false))) await worker.terminate();
    },
  };
}

/** How long stop() waits for the worker's last checkpoint. */
const STOP_DEADLINE_MS = 5000;
