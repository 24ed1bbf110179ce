// Measures how long the event loop was held while some work ran beside a timer ticking every
// 2 ms. Figures per gap between ticks:
// - wallMs: the longest gap in wall-clock time. It is what a caller waits, but on a loaded
//   machine it also grows while the process is merely descheduled.
// - busyMs: the CPU time the main thread spent inside the longest-busy gap
//   (process.threadCpuUsage), less the garbage collector's pauses inside that gap. A gap of work
//   that never yields is as busy as it is long; a gap of waiting for a CPU is not busy. Tests
//   assert on this one, which waiting for a CPU does not inflate (a busy neighbour still slows the
//   work itself: files using this probe run alone, scripts/run-tests.ts), and report all three.
// - gcMs: the collector's pauses inside that gap. A pause is paid for the whole heap of the
//   process (the test and the service share one, and earlier tests leave garbage behind), so it
//   says little about the work measured and is reported apart.
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Stall {
  wallMs: number;
  busyMs: number;
  gcMs: number;
}

interface Gap {
  startMs: number;
  endMs: number;
  cpuMs: number;
}

/** Gaps shorter than this in CPU time cannot be the longest once collection is taken out; not kept. */
const KEEP_GAPS_ABOVE_MS = 5;

/** Runs `work` while measuring the longest stall of the event loop. */
export async function measureStall<T>(work: () => Promise<T>): Promise<{ result: T; stall: Stall; elapsedMs: number }> {
  const gcPauses: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcPauses.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  let lastWall = performance.now();
  let lastCpu = process.threadCpuUsage();
  let wallMs = 0;
  const gaps: Gap[] = [];
  const tick = () => {
    const wall = performance.now();
    const cpu = process.threadCpuUsage(lastCpu);
    wallMs = Math.max(wallMs, wall - lastWall);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    if (cpuMs > KEEP_GAPS_ABOVE_MS) gaps.push({ startMs: lastWall, endMs: wall, cpuMs });
    lastWall = wall;
    lastCpu = process.threadCpuUsage();
  };
  const timer = setInterval(tick, 2);
  const began = performance.now();
  try {
    const result = await work();
    const elapsedMs = performance.now() - began;
    // A stretch that ended with the work is recorded at the next tick: let one happen (and the
    // collector's entries for it arrive).
    await sleep(10);
    tick();
    await sleep(0);
    const stall = longestBusy(gaps, gcPauses);
    return { result, stall: { wallMs: Math.round(wallMs), busyMs: Math.round(stall.busyMs), gcMs: Math.round(stall.gcMs) }, elapsedMs: Math.round(elapsedMs) };
  } finally {
    clearInterval(timer);
    observer.disconnect();
  }
}

/** The gap with the most CPU time outside collector pauses, with those pauses. */
function longestBusy(gaps: Gap[], gcPauses: PerformanceEntry[]): { busyMs: number; gcMs: number } {
  let longest = { busyMs: 0, gcMs: 0 };
  for (const gap of gaps) {
    let gcMs = 0;
    for (const pause of gcPauses) {
      const overlap = Math.min(gap.endMs, pause.startTime + pause.duration) - Math.max(gap.startMs, pause.startTime);
      if (overlap > 0) gcMs += overlap;
    }
    const busyMs = Math.max(0, gap.cpuMs - gcMs);
    if (busyMs > longest.busyMs) longest = { busyMs, gcMs };
  }
  return longest;
}
