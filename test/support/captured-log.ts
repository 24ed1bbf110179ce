// A log destination that keeps every line a test's Rollcall writes, for tests that read its logs.
import { Writable } from 'node:stream';

export class CapturedLog extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    callback();
  }

  /** The lines as objects (each line is one JSON object). */
  entries<T = Record<string, unknown>>(): T[] {
    return this.lines.map((l) => JSON.parse(l) as T);
  }
}
