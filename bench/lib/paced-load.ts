// An open-loop load at a fixed rate, for the half-load figure. autocannon's rate limit lets each
// connection send back to back until its per-second quota is used and then pause until the next
// second, so "half the rate" arrives as bursts at full speed; and its coordinated-omission
// correction assumes a 1 ms interval at these rates. Here requests leave evenly spaced, and each
// latency is counted from the moment its request was due to leave, so a stall is not hidden.
import http from 'node:http';
import { percentile, round, sleep } from './stats.ts';

export interface PacedRequest {
  path: string;
  body: string;
}

export interface PacedResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  errors: number;
  seconds: number;
  target_rps: number;
  max_in_flight: number;
  /** p99 of the requests due to leave in each second: shows whether a tail is steady or a few stalls. */
  per_second_p99_ms: number[];
}

export async function pacedLoad(options: { baseUrl: string; auth: string; rate: number; seconds: number; next: () => PacedRequest | null; maxInFlight?: number }): Promise<PacedResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxInFlight ?? 256 });
  const latencies: number[] = [];
  const bySecond: number[][] = [];
  let errors = 0;
  let ok = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let sent = 0;
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const started = performance.now();
  const pending = new Set<Promise<void>>();

  const send = (dueAt: number, work: PacedRequest) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const done = new Promise<void>((resolve) => {
      const req = http.request(`${options.baseUrl}${work.path}`, {
        method: 'POST',
        agent,
        headers: { authorization: `Token ${options.auth}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(work.body)) },
      }, (res) => {
        res.resume();
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) errors++;
          else ok++;
          const latency = performance.now() - dueAt;
          latencies.push(latency);
          (bySecond[Math.floor((dueAt - started) / 1000)] ??= []).push(latency);
          resolve();
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(work.body);
    }).finally(() => {
      inFlight--;
      pending.delete(done);
    });
    pending.add(done);
  };

  let exhausted = false;
  while (sent < total && !exhausted) {
    const now = performance.now();
    // Send everything that is due by now (catching up after a late timer), then sleep to the next.
    while (sent < total && started + sent * interval <= now) {
      const work = options.next();
      if (!work) {
        exhausted = true;
        break;
      }
      send(started + sent * interval, work);
      sent++;
    }
    const wait = started + sent * interval - performance.now();
    if (wait > 0) await sleep(Math.min(wait, 50));
    if (performance.now() - started > options.seconds * 1000 + 30_000) break;
  }
  await Promise.all(pending);
  agent.destroy();
  const seconds = (performance.now() - started) / 1000;
  return {
    rps: round(ok / seconds, 0),
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    requests: sent,
    errors,
    seconds: round(seconds, 1),
    target_rps: options.rate,
    max_in_flight: maxInFlight,
    per_second_p99_ms: Array.from(bySecond, (values) => round(percentile(values ?? [], 99))),
  };
}
