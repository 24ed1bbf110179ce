// Measures how long the event loop was held while some work ran beside a timer ticking every
// 2 ms. Two figures per gap between ticks:
// - wallMs: the longest gap in wall-clock time. It is what a caller waits, but on a loaded
//   machine it also grows while the process is merely descheduled.
// - busyMs: the CPU time the main thread spent inside the longest-busy gap
//   (process.threadCpuUsage). A gap of work that never yields is as busy as it is long; a gap of
//   waiting for a CPU is not busy. Tests assert on this one, which noise from other processes on
//   a shared machine cannot inflate, and report both.
import { setTimeout as sleep } from 'node:timers/promises';

export interface Stall {
  wallMs: number;
  busyMs: number;
}

export async function measureStall<T>(work: () => Promise<T>): Promise<{ result: T; stall: Stall; elapsedMs: number }> {
  let lastWall = performance.now();
  let lastCpu = process.threadCpuUsage();
  const stall: Stall = { wallMs: 0, busyMs: 0 };
  const tick = () => {
    const wall = performance.now();
    const cpu = process.threadCpuUsage(lastCpu);
    stall.wallMs = Math.max(stall.wallMs, wall - lastWall);
    stall.busyMs = Math.max(stall.busyMs, (cpu.user + cpu.system) / 1000);
    lastWall = wall;
    lastCpu = process.threadCpuUsage();
  };
  const timer = setInterval(tick, 2);
  const began = performance.now();
  try {
    const result = await work();
    const elapsedMs = performance.now() - began;
    // A stretch that ended with the work is recorded at the next tick: let one happen.
    await sleep(10);
    tick();
    return { result, stall: { wallMs: Math.round(stall.wallMs), busyMs: Math.round(stall.busyMs) }, elapsedMs: Math.round(elapsedMs) };
  } finally {
    clearInterval(timer);
  }
}
