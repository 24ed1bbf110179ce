// Launches per minute as bars over time, drawn from the API's buckets, with the runtime's launch
// limit as a line where it declares one. Hand-drawn SVG: one bar chart with a threshold is a
// screenful of code, stays readable by screen readers (a summary and a table of the busy minutes),
// and needs no inline style (the page's CSP forbids it). See docs/dashboard.md.
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatClock, formatClockWithDay, UI_LOCALE } from '../format.ts';
import type { LaunchHistogram } from '../types.ts';
import { localTicks } from '../chart-ticks.ts';

const HEIGHT = 220;
const MARGIN = { top: 16, right: 16, bottom: 30, left: 40 };

/** The smallest of 1, 2, 5, 10, 20, 50... that is at least `value`. */
export function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

export function summarize(histogram: LaunchHistogram, hours: number, nowMs = Date.now()): string {
  const unit = histogram.bucket_minutes === 1 ? 'minute' : `${histogram.bucket_minutes} minutes`;
  const ahead = hours === 1 ? 'the next hour' : `the next ${hours} hours`;
  if (histogram.total === 0) return `No launches in ${ahead}.`;
  const peak = histogram.peak!;
  const over = histogram.launch_limit_per_minute !== null
    ? histogram.buckets.filter((b) => b.launches / histogram.bucket_minutes > histogram.launch_limit_per_minute!).length
    : 0;
  return `${histogram.total} ${histogram.total === 1 ? 'launch' : 'launches'} in ${ahead}; busiest ${unit} ${formatClockWithDay(peak.start, nowMs)} with ${peak.launches}.`
    + (histogram.launch_limit_per_minute !== null ? ` Runtime limit ${histogram.launch_limit_per_minute} per minute${over > 0 ? `, exceeded in ${over} ${over === 1 ? 'bucket' : 'buckets'}` : ''}.` : '');
}

/**
 * Which bars get their count written above them: the tallest first, each at least `spacingPx` from
 * every one already chosen, at most `limit`. A touch screen has no tooltips, and at six hours a
 * minute is a thin bar: the counts that matter are read off the chart itself.
 */
export function barsToLabel(launches: readonly number[], stepPx: number, spacingPx = 24, limit = 6): Set<number> {
  const order = launches.map((count, index) => ({ count, index })).filter((b) => b.count > 0)
    .sort((a, b) => b.count - a.count || a.index - b.index);
  const chosen: number[] = [];
  for (const { index } of order) {
    if (chosen.length >= limit) break;
    if (chosen.every((other) => Math.abs(other - index) * stepPx >= spacingPx)) chosen.push(index);
  }
  return new Set(chosen);
}

const dayOnly = new Intl.DateTimeFormat(UI_LOCALE, { month: 'short', day: 'numeric' });

/** An axis label: the time, or at local midnight the new day's date (a long window crosses midnight). */
function tickLabel(ms: number): string {
  const date = new Date(ms);
  return date.getHours() === 0 && date.getMinutes() === 0 ? dayOnly.format(date) : formatClock(date.toISOString());
}

export function LaunchChart({ histogram, hours }: { histogram: LaunchHistogram; hours: number }) {
  const wrapper = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(720);
  useEffect(() => {
    const element = wrapper.current;
    if (!element) return;
    const observer = new ResizeObserver((entries) => {
      const measured = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (measured > 0) setWidth(measured);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const buckets = histogram.buckets;
  const limitPerBucket = histogram.launch_limit_per_minute === null ? null : histogram.launch_limit_per_minute * histogram.bucket_minutes;
  // Whole-number ticks (a launch count of 2.5 means nothing), and the axis ends on one.
  const highest = Math.max(histogram.peak?.launches ?? 0, limitPerBucket ?? 0, 1);
  const yStep = niceCeiling(highest / 4);
  const yMax = Math.ceil(highest / yStep) * yStep;
  const plotWidth = Math.max(10, width - MARGIN.left - MARGIN.right);
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const step = plotWidth / Math.max(1, buckets.length);
  // At 6 hours a minute is 2-3 px wide; a bar stays at least 2 px so a single launch shows.
  const barWidth = Math.max(2, step * 0.8);
  const y = (value: number) => MARGIN.top + plotHeight - (value / yMax) * plotHeight;
  const fromMs = Date.parse(histogram.from);
  const bucketMs = histogram.bucket_minutes * 60_000;
  // A label per hour, or per quarter hour in short windows, on the viewer's clock; fewer when the chart is narrow.
  const tickEveryMinutes = (hours <= 2 ? 15 : 60) * Math.max(1, Math.ceil((hours * 60 / (hours <= 2 ? 15 : 60)) / Math.max(2, Math.floor(plotWidth / 64))));
  const ticks = localTicks(fromMs, fromMs + buckets.length * bucketMs, tickEveryMinutes);
  const yTicks: number[] = [];
  for (let v = 0; v <= yMax; v += yStep) yTicks.push(v);
  const summary = summarize(histogram, hours);
  const busy = buckets.filter((b) => b.launches > 0);
  const labelled = barsToLabel(buckets.map((b) => b.launches), step);
  const barX = (i: number) => MARGIN.left + i * step + step / 2;

  return (
    <figure class="chart">
      <div ref={wrapper} class="chart-canvas">
        <svg width={width} height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-labelledby="launch-chart-summary" data-total={histogram.total}>
          {yTicks.map((value) => (
            <g key={value} class="chart-grid">
              <line x1={MARGIN.left} x2={MARGIN.left + plotWidth} y1={y(value)} y2={y(value)} />
              <text x={MARGIN.left - 6} y={y(value) + 4} text-anchor="end">{value}</text>
            </g>
          ))}
          {ticks.map((t) => {
            const x = MARGIN.left + ((t - fromMs) / bucketMs) * step;
            return (
              <g key={t} class="chart-tick">
                <line x1={x} x2={x} y1={MARGIN.top + plotHeight} y2={MARGIN.top + plotHeight + 5} />
                <text x={x} y={HEIGHT - 8} text-anchor="middle">{tickLabel(t)}</text>
              </g>
            );
          })}
          {buckets.map((bucket, i) => bucket.launches === 0 ? null : (
            <rect
              key={bucket.start}
              class={`chart-bar${limitPerBucket !== null && bucket.launches > limitPerBucket ? ' chart-bar-over' : ''}`}
              x={MARGIN.left + i * step + (step - barWidth) / 2}
              y={y(bucket.launches)}
              width={barWidth}
              height={Math.max(1, MARGIN.top + plotHeight - y(bucket.launches))}
              data-start={bucket.start}
              data-launches={bucket.launches}
            >
              <title>{`${formatClockWithDay(bucket.start)}: ${bucket.launches} ${bucket.launches === 1 ? 'launch' : 'launches'}`}</title>
            </rect>
          ))}
          {buckets.map((bucket, i) => !labelled.has(i) ? null : (
            <text key={`count-${bucket.start}`} class="chart-count" x={barX(i)} y={y(bucket.launches) - 4} text-anchor="middle" data-start={bucket.start} aria-hidden="true">{bucket.launches}</text>
          ))}
          {limitPerBucket !== null && (
            <g class="chart-limit" data-limit={histogram.launch_limit_per_minute}>
              <line x1={MARGIN.left} x2={MARGIN.left + plotWidth} y1={y(limitPerBucket)} y2={y(limitPerBucket)} />
              <text x={MARGIN.left + plotWidth} y={y(limitPerBucket) - 5} text-anchor="end">{`runtime limit ${histogram.launch_limit_per_minute}/min`}</text>
            </g>
          )}
          <line class="chart-axis" x1={MARGIN.left} x2={MARGIN.left + plotWidth} y1={MARGIN.top + plotHeight} y2={MARGIN.top + plotHeight} />
        </svg>
      </div>
      <figcaption id="launch-chart-summary" class="chart-summary">{summary}</figcaption>
      {busy.length > 0 && (
        <details class="chart-table">
          <summary>Busy {histogram.bucket_minutes === 1 ? 'minutes' : 'periods'} as a table</summary>
          <table>
            <thead><tr><th scope="col">Starting</th><th scope="col">Launches</th></tr></thead>
            <tbody>
              {busy.map((b) => <tr key={b.start}><td>{formatClockWithDay(b.start)}</td><td>{b.launches}</td></tr>)}
            </tbody>
          </table>
        </details>
      )}
    </figure>
  );
}
