// Where a time axis gets its labels: on the viewer's own hours (or quarter hours), counted from
// local midnight. Whole multiples of the step in milliseconds since 1970 are UTC's hours: in a
// zone half an hour off UTC (India, parts of Australia) every label would read ":30".

/** The instants in [fromMs, toMs) that are a whole number of `everyMinutes` after local midnight of `fromMs`'s day. */
export function localTicks(fromMs: number, toMs: number, everyMinutes: number): number[] {
  const from = new Date(fromMs);
  const midnight = new Date(from.getFullYear(), from.getMonth(), from.getDate());
  const ticks: number[] = [];
  // Counted on the local clock (not in added milliseconds), so that a change of clocks keeps them on the hour.
  for (let minutes = 0; ; minutes += everyMinutes) {
    const tick = new Date(midnight.getFullYear(), midnight.getMonth(), midnight.getDate(), 0, minutes).getTime();
    if (tick >= toMs) break;
    if (tick >= fromMs && ticks.at(-1) !== tick) ticks.push(tick);
  }
  return ticks;
}
