// Shutting down a process made of parts: each part is stopped in turn, and one that fails to stop
// does not keep the parts after it open. A database left open because the HTTP client's close
// threw would hold its file lock (SQLite) or its connections (PostgreSQL) until the process dies.

export interface ClosingStep {
  /** What is stopped, as it should read in an error. */
  name: string;
  stop: () => Promise<void> | void;
}

/** The steps that failed while closing, each with its own error as `errors[i]`. */
export class CloseError extends AggregateError {
  readonly failedSteps: readonly string[];
  constructor(failures: ReadonlyArray<{ name: string; error: unknown }>) {
    super(failures.map((f) => f.error), `could not stop: ${failures.map((f) => `${f.name} (${messageOf(f.error)})`).join(', ')}`);
    this.name = 'CloseError';
    this.failedSteps = failures.map((f) => f.name);
  }
}

/** Runs every step, in order, each after the one before has settled; throws a CloseError if any failed. */
export async function closeInOrder(steps: readonly ClosingStep[]): Promise<void> {
  const failures: Array<{ name: string; error: unknown }> = [];
  for (const step of steps) {
    try {
      await step.stop();
    } catch (error) {
      failures.push({ name: step.name, error });
    }
  }
  if (failures.length > 0) throw new CloseError(failures);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
