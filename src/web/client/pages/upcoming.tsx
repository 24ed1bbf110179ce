// What joins next: launches per minute over the next hours, and the bots themselves, live.
import { useRef } from 'preact/hooks';
import { api, BASE, query } from '../api.ts';
import { staleSince, useApi } from '../use-api.ts';
import { CalendarFilter } from '../components/calendar-filter.tsx';
import { useReloadOnStatusChanges, useStatusChanges } from '../live.ts';
import { formatRelative, platformWords, zoneAbbreviation, SOURCE_WORDS, statusWords } from '../format.ts';
import { LocalTime } from '../components/local-time.tsx';
import type { AtRisk, Connection, LaunchHistogram, UpcomingBot } from '../types.ts';
import { atRiskCalendarLabels, atRiskCalendarWords, atRiskSummary } from '../at-risk.ts';
import { connectionNamesWithKinds, type ConnectionName } from '../connection-names.ts';
import { LaunchChart } from '../components/launch-chart.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { LaunchFailingBadge } from '../components/launch-failing.tsx';
import { Empty, ErrorState, Loading, StaleNotice } from '../components/states.tsx';
import { Pager, pagerOf } from '../components/pager.tsx';
import { useQueryState } from '../url-state.ts';
import { useClock } from '../clock.ts';
import { LIVE_STATUSES } from '../live-statuses.ts';
import { meetingTitle } from '../meeting-title.ts';
import { originBesideSource, unlinkedEventNote } from '../bot-words.ts';

const HOURS = [1, 3, 6, 12, 24];
const DEFAULT_HOURS = 6;
const PAGE_SIZE = 25;

export function UpcomingPage() {
  const now = useClock();
  // The filters and the page live in the address (url-state.ts); a value it cannot name is the default.
  const { params, update } = useQueryState();
  const hours = HOURS.find((h) => String(h) === params.get('hours')) ?? DEFAULT_HOURS;
  const status = LIVE_STATUSES.find((s) => s === params.get('status')) ?? '';
  const calendarId = params.get('calendar') ?? '';
  const pager = pagerOf(params.getAll('cursor'), (cursors) => update({ cursor: cursors }));
  const listTitle = useRef<HTMLHeadingElement>(null);
  const histogram = useApi(() => api.get<LaunchHistogram>(`/bots/launch-histogram${query({ hours })}`), String(hours));
  const list = useApi(
    () => api.get<{ bots: UpcomingBot[]; next: string | null }>(`/bots/upcoming${query({ status, calendar_id: calendarId, limit: PAGE_SIZE, cursor: pager.cursor })}`),
    `${status}|${calendarId}|${pager.cursor ?? ''}`,
  );
  const connections = useApi(() => api.get<{ connections: Connection[] }>('/calendar/connections'), 'connections');
  const names = connectionNamesWithKinds(connections.data?.connections ?? []);

  // The row changes at once; the list and chart are read again, paced, since a change can add a
  // bot (Scheduled), end one, or move its launch to another minute.
  useStatusChanges((change) => {
    list.setData((data) => data && { ...data, bots: data.bots.map((b) => (b.bot_id === change.bot_id ? { ...b, status: change.status } : b)) });
  });
  useReloadOnStatusChanges(() => {
    void list.reload();
    void histogram.reload();
  });

  return (
    <section class="page">
      <h1>Upcoming</h1>
      <StaleNotice since={staleSince(histogram, list, connections)} />

      <section class="card" aria-labelledby="chart-title">
        <div class="card-header">
          <h2 id="chart-title">Launches per minute</h2>
          <div class="segmented" role="group" aria-label="How far ahead">
            {HOURS.map((h) => (
              <button key={h} type="button" class="button" aria-pressed={h === hours} onClick={() => update({ hours: h === DEFAULT_HOURS ? null : String(h) })}>{h} h</button>
            ))}
          </div>
        </div>
        {histogram.error ? <ErrorState error={histogram.error} onRetry={() => void histogram.reload()} />
          : histogram.data === null ? <Loading what="the launch chart" />
            : <LaunchChart histogram={histogram.data} hours={hours} />}
      </section>

      <section class="card" aria-labelledby="list-title">
        <div class="card-header">
          <h2 id="list-title" ref={listTitle}>Bots</h2>
          <form class="filters" onSubmit={(e) => e.preventDefault()}>
            <label>
              <span>Status</span>
              <select value={status} onChange={(e) => update({ status: e.currentTarget.value || null, cursor: null })}>
                <option value="">Any</option>
                {LIVE_STATUSES.map((s) => <option key={s} value={s}>{statusWords(s)}</option>)}
              </select>
            </label>
            <CalendarFilter value={calendarId} connections={connections.data?.connections ?? []} onChange={(id) => update({ calendar: id || null, cursor: null })} />
          </form>
        </div>
        {list.error ? <ErrorState error={list.error} onRetry={() => void list.reload()} />
          : list.data === null ? <Loading what="upcoming bots" />
            : list.data.bots.length === 0 ? (
              <Empty title={status || calendarId ? 'No bots match these filters.' : 'No bots are waiting to join.'}>
                <p>Schedule one from <a href={`${BASE}/events`}>Events</a>, through the API (<code>POST /api/v1/calendar/schedule/&#123;event_id&#125;</code>), or turn on auto-schedule on <a href={`${BASE}/calendars`}>Calendars</a>.</p>
              </Empty>
            ) : (
              <>
                <table class="table responsive" aria-labelledby="list-title" aria-busy={list.isOutdated ? 'true' : undefined}>
                  <thead>
                    <tr><th scope="col">Meeting</th><th scope="col">Joins ({zoneAbbreviation()})</th><th scope="col">Platform</th><th scope="col">Source</th><th scope="col">Status</th></tr>
                  </thead>
                  <tbody>
                    {list.data.bots.map((bot) => (
                      <tr key={bot.bot_id} data-bot-id={bot.bot_id}>
                        <td data-label="Meeting">
                          <a href={`${BASE}/bots/${bot.bot_id}`}>{meetingTitle(bot.events.map((e) => e.title), bot.meeting_url)}</a>
                          {bot.events.length > 1 && <span class="muted"> and {bot.events.length - 1} more</span>}
                          {bot.bot_name && <div class="muted small">{bot.bot_name}</div>}
                        </td>
                        <td data-label="Joins"><LocalTime iso={bot.scheduled_join_time} /><div class="muted small">{formatRelative(bot.scheduled_join_time)}</div></td>
                        <td data-label="Platform">{platformWords(bot.platform)}</td>
                        <td data-label="Source">{SOURCE_WORDS[bot.source] ?? bot.source}<UnlinkedNote bot={bot} /><OriginNote bot={bot} /></td>
                        <td data-label="Status">
                          <StatusBadge status={bot.status} />
                          {bot.at_risk && <AtRiskBadge atRisk={bot.at_risk} connectionNames={names} />}
                          {bot.launch_failing && <LaunchFailingBadge failing={bot.launch_failing} nowMs={now} />}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <Pager pager={pager} nextCursor={list.data.next} label="Bots" top={listTitle} isBusy={list.isOutdated} />
              </>
            )}
      </section>
    </section>
  );
}

/**
 * A waiting bot at risk: the badge, beneath it the calendars Rollcall cannot read, as Calendars
 * names them (whoever reads the list learns which account to connect again without opening the
 * bot), and what went wrong and what follows in short, said to whoever reads the row (a touch
 * screen has no title to hover). On a wide screen a long name is cut after two lines, whole in the
 * text screen readers hear and in its title, the whole sentence; on a phone it wraps.
 */
function AtRiskBadge({ atRisk, connectionNames }: { atRisk: AtRisk; connectionNames: ReadonlyMap<string, ConnectionName> }) {
  const labels = atRiskCalendarLabels(atRisk.calendars, connectionNames);
  return (
    <div class="at-risk">
      <span class="badge badge-bad" data-testid="at-risk">At risk: calendar access lost</span>
      {labels.length > 0 && (
        <div class="small clip" data-testid="at-risk-calendars" title={`Its meeting is only on ${atRiskCalendarWords(atRisk.calendars, connectionNames)}: it is cancelled at its join time unless access returns before then.`}>
          {labels.length === 1 ? 'Calendar' : 'Calendars'}: {labels.join('; ')}
        </div>
      )}
      <div class="small" data-testid="at-risk-summary">{atRiskSummary(atRisk.calendars)}</div>
    </div>
  );
}

/** Beneath a calendar bot's source, when its event no longer holds it (unlinkedEventNote). */
function UnlinkedNote({ bot }: { bot: UpcomingBot }) {
  const words = unlinkedEventNote(bot);
  return words === null ? null : <div class="small" data-testid="event-unlinked">{words}</div>;
}

/** What booked the bot, beneath its source, where it says more (originBesideSource). */
function OriginNote({ bot }: { bot: UpcomingBot }) {
  const words = originBesideSource(bot.origin, bot.source);
  return words === null ? null : <div class="muted small" data-origin={bot.origin ?? undefined}>{words}</div>;
}
