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

/**
 * Runs every step, in order, each after the one before has settled; a group (an array) is stopped
 * all at once, for parts that do not depend on each other and each wait out a grace of their own
 * (their waits add up otherwise). Throws a CloseError if any failed.
 */
export async function closeInOrder(steps: ReadonlyArray<ClosingStep | readonly ClosingStep[]>): Promise<void> {
  const failures: Array<{ name: string; error: unknown }> = [];
  const run = async (step: ClosingStep) => {
    try {
      await step.stop();
    } catch (error) {
      failures.push({ name: step.name, error });
    }
  };
  for (const step of steps) {
    if (Array.isArray(step)) await Promise.all(step.map(run));
    else await run(step as ClosingStep);
  }
  if (failures.length > 0) throw new CloseError(failures);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
