// Queries answered late on purpose: a Kysely plugin (given to startTestRollcall's `plugins`) that,
// while `isOn`, holds every query's result for `delayMs` before handing it back, so that a test
// can have requests under way at a chosen moment (a stop, a client going away).
import type { KyselyPlugin } from 'kysely';

export interface SlowQueries {
  plugin: KyselyPlugin;
  /** Whether results are held now. */
  isOn: boolean;
  /** Results held since the start (each query counts once). */
  readonly held: number;
  /** Results held at this moment. */
  readonly holding: number;
}

export function slowQueries(delayMs: number): SlowQueries {
  let held = 0;
  let holding = 0;
  const slow: SlowQueries = {
    isOn: false,
    get held() { return held; },
    get holding() { return holding; },
    plugin: {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        if (slow.isOn) {
          held++;
          holding++;
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          holding--;
        }
        return args.result;
      },
    },
  };
  return slow;
}
