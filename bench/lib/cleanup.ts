// Everything the benchmark starts or creates registers how to undo it here, so that a failure, a
// Ctrl-C or a timeout still stops child processes and drops temp databases and Redis keys.
type Undo = () => Promise<void> | void;

const undos = new Map<number, { label: string; undo: Undo }>();
let nextId = 1;

/** Registers an undo; the returned function runs it now (once) and forgets it. */
export function onCleanup(label: string, undo: Undo): () => Promise<void> {
  const id = nextId++;
  undos.set(id, { label, undo });
  return async () => {
    const entry = undos.get(id);
    if (!entry) return;
    undos.delete(id);
    await entry.undo();
  };
}

/** Runs every registered undo, newest first, each bounded so one stuck step cannot hang the exit. */
export async function cleanupAll(): Promise<void> {
  const entries = [...undos.entries()].reverse();
  undos.clear();
  for (const [, { label, undo }] of entries) {
    try {
      await Promise.race([
        Promise.resolve().then(undo),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 20 s')), 20_000).unref()),
      ]);
    } catch (error) {
      process.stderr.write(`cleanup of ${label} failed: ${(error as Error).message}\n`);
    }
  }
}

let installed = false;

/** On SIGINT/SIGTERM: clean up, then exit non-zero. */
export function installSignalCleanup(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: cleaning up\n`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
