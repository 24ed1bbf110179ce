// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function and per file or
// package, leaving idle time out, so "what limits this figure" comes from a profile, not a guess.
// Also a command: node bench/lib/profile.ts <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  pct: number;
}

export interface ProfileSummary {
  busy_ms: number;
  idle_ms: number;
  top_functions: ProfileEntry[];
  top_files: ProfileEntry[];
  /**
   * Time spent inside the database driver (SQLite runs in-process and synchronously, so its
   * work is on this thread), charged to the nearest project function that issued the query.
   */
  database_by_caller: ProfileEntry[];
}

const ROOT = new URL('../../', import.meta.url).href;

/** Where a function lives: a package name, a project file, node:internal, or a V8 pseudo-frame. */
function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch) return `npm:${packageMatch[1]}`;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  return url.replace(/^file:\/\//, '');
}

/** A stretch of CLOCK_MONOTONIC time in µs (monotonicUs()), shared by every process on the machine. */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

/** Now on the clock V8 stamps profile samples with (CLOCK_MONOTONIC, like process.hrtime). */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Sums self time per function and file; with a window, only samples taken inside it count. */
export function summariseProfile(file: string, top = 15, window?: ProfileWindow): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  let at = profile.startTime;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const id = profile.samples[i]!;
    // timeDeltas[i] is the time before sample i; attributing the next delta is the usual convention.
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const isDriver = (n: ProfileNode) => /src\/db\/node-sqlite-database\.ts$/.test(n.callFrame.url) || /node_modules\/(pg|pg-protocol)\//.test(n.callFrame.url);
  const isCaller = (n: ProfileNode) => n.callFrame.url.startsWith(`${ROOT}src/`) && !n.callFrame.url.includes('/src/db/') && n.callFrame.functionName !== '';
  const callers = new Map<string, number>();
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const place = placeOf(url, functionName);
    const name = `${functionName || '(anonymous)'} ${url ? `${place}:${lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + us);
    files.set(place, (files.get(place) ?? 0) + us);
    // Walk up from a driver frame to the project function that asked for the query.
    let cursor: ProfileNode | undefined = node;
    let inDriver = false;
    while (cursor) {
      if (isDriver(cursor)) inDriver = true;
      else if (inDriver && isCaller(cursor)) break;
      const parent = parentOf.get(cursor.id);
      cursor = parent === undefined ? undefined : byId.get(parent);
    }
    if (inDriver) {
      const caller = cursor ? `${cursor.callFrame.functionName} ${placeOf(cursor.callFrame.url, '')}:${cursor.callFrame.lineNumber + 1}` : '(no project caller)';
      callers.set(caller, (callers.get(caller) ?? 0) + us);
    }
  }
  const rank = (map: Map<string, number>): ProfileEntry[] => [...map.entries()]
    .sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, pct: busy > 0 ? Math.round((us / busy) * 1000) / 10 : 0 }));
  return { busy_ms: Math.round(busy / 1000), idle_ms: Math.round(idle / 1000), top_functions: rank(functions), top_files: rank(files), database_by_caller: rank(callers) };
}

export function formatSummary(title: string, summary: ProfileSummary): string {
  const lines = [`${title}: ${summary.busy_ms} ms busy, ${summary.idle_ms} ms idle`, '  self time by file/package:'];
  for (const e of summary.top_files) lines.push(`    ${e.pct.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  lines.push('  self time by function:');
  for (const e of summary.top_functions) lines.push(`    ${e.pct.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  if (summary.database_by_caller.length > 0) {
    lines.push('  self time inside the database driver, by the project function that issued the query:');
    for (const e of summary.database_by_caller) lines.push(`    ${e.pct.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/lib/profile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatSummary(file, summariseProfile(file, top ? Number(top) : 25))}\n`);
}
