// What happened to the bots that are no longer live: done, failed or cancelled, the latest to end
// first, with the meeting each was for and why it ended; filtered by outcome and calendar.
import { useRef } from 'preact/hooks';
import { api, BASE, query } from '../api.ts';
import { staleSince, useApi } from '../use-api.ts';
import { CalendarFilter } from '../components/calendar-filter.tsx';
import { useReloadOnStatusChanges } from '../live.ts';
import { zoneAbbreviation } from '../format.ts';
import { LocalTime } from '../components/local-time.tsx';
import type { Connection, EndedBot, EndedOutcome } from '../types.ts';
import type { ActionOrigin } from '../../../domain/action-origin.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { Empty, ErrorState, Loading, StaleNotice } from '../components/states.tsx';
import { Pager, pagerOf } from '../components/pager.tsx';
import { useQueryState } from '../url-state.ts';
import { useClock } from '../clock.ts';
import { meetingTitleOfEvents } from '../meeting-title.ts';
import { allDayZonesOfEvents, DATA_DELETED_TITLE, endedEventTitles, endedJoinWords, endReasonCell } from '../ended-bot.ts';
import { originWords } from '../bot-words.ts';

/** The API's outcomes (`outcome`), in words. */
const OUTCOMES: { value: EndedOutcome | ''; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'done', label: 'Done' },
  { value: 'failed', label: 'Failed' },
  { value: 'cancelled', label: 'Cancelled' },
];
const PAGE_SIZE = 25;

const EMPTY_TITLES: Record<EndedOutcome | '', string> = {
  '': 'No bots have ended yet.',
  done: 'No bots are done.',
  failed: 'No bots failed.',
  cancelled: 'No bots were cancelled.',
};

export function EndedPage() {
  const now = useClock();
  // The filters and the page live in the address (url-state.ts); a value it cannot name is All.
  const { params, update } = useQueryState();
  const outcome = OUTCOMES.find((o) => o.value !== '' && o.value === params.get('outcome'))?.value ?? '';
  const calendarId = params.get('calendar') ?? '';
  const pager = pagerOf(params.getAll('cursor'), (cursors) => update({ cursor: cursors }));
  const listTitle = useRef<HTMLHeadingElement>(null);
  const list = useApi(
    () => api.get<{ bots: EndedBot[]; next: string | null }>(`/bots/ended${query({ outcome, calendar_id: calendarId, limit: PAGE_SIZE, cursor: pager.cursor })}`),
    `${outcome}|${calendarId}|${pager.cursor ?? ''}`,
  );
  const connections = useApi(() => api.get<{ connections: Connection[] }>('/calendar/connections'), 'connections');
  // A bot that ends comes into the list (and one that ended is in it already): read it again, paced.
  useReloadOnStatusChanges(() => void list.reload());

  return (
    <section class="page">
      <h1>Ended</h1>
      <StaleNotice since={staleSince(list, connections)} />
      <section class="card" aria-labelledby="list-title">
        <div class="card-header">
          <h2 id="list-title" ref={listTitle}>Ended bots</h2>
          <form class="filters" onSubmit={(e) => e.preventDefault()}>
            <div class="segmented" role="group" aria-label="Show bots that ended">
              {OUTCOMES.map((o) => (
                <button key={o.value} type="button" class="button" aria-pressed={outcome === o.value} onClick={() => update({ outcome: o.value || null, cursor: null })}>{o.label}</button>
              ))}
            </div>
            <CalendarFilter value={calendarId} connections={connections.data?.connections ?? []} onChange={(id) => update({ calendar: id || null, cursor: null })} />
          </form>
        </div>
        {list.error ? <ErrorState error={list.error} onRetry={() => void list.reload()} />
          : list.data === null ? <Loading what="ended bots" />
            : list.data.bots.length === 0 ? (
              <Empty title={calendarId ? 'No bots match these filters.' : EMPTY_TITLES[outcome]}>
                <p>A bot is listed here once it has left its meeting, failed, or been cancelled. Bots still to join are on <a href={BASE}>Upcoming</a>.</p>
              </Empty>
            ) : (
              <>
                <table class="table responsive" aria-labelledby="list-title" aria-busy={list.isOutdated ? 'true' : undefined}>
                  <thead>
                    <tr><th scope="col">Meeting</th><th scope="col">Join time ({zoneAbbreviation()})</th><th scope="col">Status</th><th scope="col">Why it ended</th></tr>
                  </thead>
                  <tbody>
                    {list.data.bots.map((bot) => (
                      <tr key={bot.bot_id} data-bot-id={bot.bot_id}>
                        <td data-label="Meeting">
                          {/* A bot whose data was deleted has no meeting, name or events left to name it by. */}
                          <a href={`${BASE}/bots/${bot.bot_id}`}>{bot.data_deleted_at ? DATA_DELETED_TITLE : meetingTitleOfEvents(bot.events, bot.meeting_url)}</a>
                          {bot.events.length > 1 && <span class="muted"> and {bot.events.length - 1} more</span>}
                          {bot.bot_name && <div class="muted small">{bot.bot_name}</div>}
                          {!bot.data_deleted_at && <OriginNote origin={bot.origin} />}
                        </td>
                        <td data-label="Join time"><LocalTime iso={bot.scheduled_join_time} /><div class="muted small">{endedJoinWords(bot.scheduled_join_time, bot.ended_at, now)}</div></td>
                        <td data-label="Status"><StatusBadge status={bot.status} /></td>
                        <td data-label="Why it ended" class="break">
                          {whyEnded(bot)}
                          {bot.ended_at && <div class="muted small">Ended <LocalTime iso={bot.ended_at} /></div>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <Pager pager={pager} nextCursor={list.data.next} label="Ended bots" top={listTitle} isBusy={list.isOutdated} />
              </>
            )}
      </section>
    </section>
  );
}

/** Why it ended, as the column says it (endReasonCell): nothing more where the reason was only the status. */
function whyEnded(bot: EndedBot) {
  const cell = endReasonCell(bot.status, bot.end_reason, bot.data_deleted_at !== null, endedEventTitles(bot.events), allDayZonesOfEvents(bot.events));
  if (cell === null) return null;
  return cell.isMuted ? <span class="muted">{cell.text}</span> : cell.text;
}

/** What booked the bot (originWords), beneath its name; nothing for a bot whose origin is not known. */
function OriginNote({ origin }: { origin: ActionOrigin | null }) {
  const words = originWords(origin);
  return words === null ? null : <div class="muted small" data-origin={origin ?? undefined}>{words}</div>;
}
