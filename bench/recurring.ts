// schedule_all_occurrences on a fresh 52-week series: one request that creates 52 bots.
import { request, type RunningServer } from './lib/server.ts';
import { percentile, round } from './lib/stats.ts';

export interface RecurringResult {
  samples: number;
  occurrences: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export async function measureRecurring(server: RunningServer, key: string, samples: number): Promise<RecurringResult> {
  const times: number[] = [];
  const firstStart = Date.now() + 7 * 86_400_000;
  for (let i = 0; i < samples; i++) {
    const start = new Date(firstStart + i * 3_600_000);
    const created = await request('POST', `${server.baseUrl}/api/v1/calendar/events`, {
      auth: key,
      body: {
        title: `Weekly ${i}`,
        start_time: start.toISOString(),
        end_time: new Date(start.getTime() + 1_800_000).toISOString(),
        timezone: 'UTC',
        recurrence: ['RRULE:FREQ=WEEKLY;COUNT=52'],
        meeting_url: `https://zoom.us/j/${80_000_000_000 + i}`,
      },
    });
    if (created.status !== 200 && created.status !== 201) throw new Error(`creating series ${i}: ${created.status} ${JSON.stringify(created.body)}`);
    const answer = await request('POST', `${server.baseUrl}/api/v1/calendar/schedule/${created.body.id as string}`, {
      auth: key,
      body: { deduplication_key: `series-${i}`, bot_config: {}, schedule_all_occurrences: true, occurrence_limit: 52 },
    });
    if (answer.status !== 200 || answer.body.occurrences_scheduled !== 52) {
      throw new Error(`schedule_all_occurrences on series ${i}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`);
    }
    times.push(answer.ms);
  }
  return { samples, occurrences: 52, p50_ms: round(percentile(times, 50)), p99_ms: round(percentile(times, 99)), max_ms: round(Math.max(...times)) };
}
