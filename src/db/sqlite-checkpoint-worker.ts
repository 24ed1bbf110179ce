// The worker thread of sqlite-checkpoints.ts: its own connection to the file, a PASSIVE checkpoint
// on a timer, a last one when told to stop.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { file, everyMs } = workerData as { file: string; everyMs: number };
const connection = new DatabaseSync(file);
// A checkpoint that copies pages syncs the WAL and the database file (any level above OFF).
connection.exec('PRAGMA synchronous = NORMAL');
const passive = connection.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let problem: string | null = null;

function checkpoint(): void {
  let now: string | null = null;
  try {
    // PASSIVE copies what it can without waiting for readers or the writer.
    passive.get();
  } catch (error) {
    now = (error as Error).message;
  }
  // The server hears of a change only: a failure once, and its end.
  if (now !== problem) parentPort!.postMessage({ problem: now });
  problem = now;
}

const timer = setInterval(checkpoint, everyMs);
parentPort!.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  connection.close();
  parentPort!.close();
});
