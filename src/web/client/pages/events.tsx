// Events in a window with each one's bot; schedule or unschedule from here.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, ApiFailure, BASE, query } from '../api.ts';
import { useApi } from '../use-api.ts';
import { CalendarFilter } from '../components/calendar-filter.tsx';
import { useReloadOnStatusChanges } from '../live.ts';
import { eventWhenTitle, eventWhenWords, platformWords, statusWords, zoneAbbreviation } from '../format.ts';
import { allDayZone } from '../../../domain/all-day.ts';
import type { CalendarEvent, Connection } from '../types.ts';
import { ConfirmButton, isFocusLost } from '../components/confirm-button.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Empty, ErrorState, Loading, Notice, StaleNotice } from '../components/states.tsx';
import { Pager, pagerOf, type PagerState } from '../components/pager.tsx';
import { useQueryState } from '../url-state.ts';
import { useClock } from '../clock.ts';
import { isLiveStatus } from '../live-statuses.ts';

function dateInput(offsetDays: number): string {
  const date = new Date(Date.now() + offsetDays * 86_400_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Midnight of a date input's day in the browser's zone (`days` later for an end), in ms; NaN when the field holds no day. */
function startOfDay(value: string, days = 0): number {
  const date = new Date(`${value}T00:00:00`);
  date.setDate(date.getDate() + days);
  return date.getTime();
}

interface EventWindow {
  timeMin: string;
  timeMax: string;
}

/**
 * The window the From and To days ask for, both days included, or why there is none. A cleared
 * field (or a day the browser cannot read) is said in words rather than sent: the API would fall
 * back to its own default window, which is not what the page shows.
 */
function windowOf(from: string, to: string): EventWindow | { problem: string; field: 'from' | 'to' } {
  const fromMs = startOfDay(from);
  const toMs = startOfDay(to, 1);
  if (!Number.isFinite(fromMs)) return { problem: 'Choose a From day to list events.', field: 'from' };
  if (!Number.isFinite(toMs)) return { problem: 'Choose a To day to list events.', field: 'to' };
  if (toMs <= fromMs) return { problem: 'The To day is before the From day: choose a To day on or after it.', field: 'to' };
  return { timeMin: new Date(fromMs).toISOString(), timeMax: new Date(toMs).toISOString() };
}

export function EventsPage() {
  // The window, the calendar and the page live in the address (url-state.ts). A day cleared stays
  // cleared there (`from=`), to be said in words after a reload too; a day not named is the default.
  const { params, update } = useQueryState();
  const from = params.get('from') ?? dateInput(-1);
  const to = params.get('to') ?? dateInput(7);
  const calendarId = params.get('calendar') ?? '';
  const pager = pagerOf(params.getAll('cursor'), (cursors) => update({ cursor: cursors }));
  const connections = useApi(() => api.get<{ connections: Connection[] }>('/calendar/connections'), 'connections');
  const range = windowOf(from, to);
  const invalid = 'problem' in range ? range : null;
  /** The day field at fault is marked invalid and described by the message. */
  const fieldState = (field: 'from' | 'to') => (invalid?.field === field ? { 'aria-invalid': true, 'aria-describedby': 'window-problem' } : {});

  return (
    <section class="page">
      <h1>Events</h1>
      <form class="filters card" onSubmit={(e) => e.preventDefault()}>
        <label><span>From</span><input type="date" value={from} required {...fieldState('from')} onChange={(e) => update({ from: e.currentTarget.value, cursor: null })} /></label>
        <label><span>To</span><input type="date" value={to} required {...fieldState('to')} onChange={(e) => update({ to: e.currentTarget.value, cursor: null })} /></label>
        <CalendarFilter value={calendarId} connections={connections.data?.connections ?? []} onChange={(id) => update({ calendar: id || null, cursor: null })} />
      </form>
      {'problem' in range
        ? <p id="window-problem" class="field-error" role="alert">{range.problem}</p>
        : <EventList range={range} calendarId={calendarId} pager={pager} />}
    </section>
  );
}

/** Why an event cannot get a bot from here, said beside its greyed Schedule bot button; null when it can. */
function whyNotSchedulable(event: CalendarEvent, nowMs: number): string | null {
  if (event.status === 'cancelled') return 'The event is cancelled';
  if (Date.parse(event.end_time) <= nowMs) return 'Already ended';
  if (!event.meeting_url) return 'No meeting link to join';
  return null;
}

/**
 * A refusal to schedule, for this page. A meeting link the API refuses is reported with the API's
 * way round it (a link of the client's own in bot_config.meeting_url), which this page cannot
 * send: say that it takes the API.
 */
function scheduleFailureText(error: unknown): string {
  const message = (error as Error).message;
  if (error instanceof ApiFailure && (error.code === 'invalid_meeting_url' || error.code === 'no_meeting_url')) {
    return `${message.replace(/;\s*pass bot_config\.meeting_url\.?$/, '')}. The dashboard schedules bots on the event's own link; to join with another link, schedule the bot through the API with bot_config.meeting_url.`;
  }
  return message;
}

/** Whether an event's Actions cell still shows the state before an action whose row now `offers` the other button. */
function showsBefore(cell: HTMLElement, offers: 'Unschedule' | 'Schedule'): boolean {
  if (cell.querySelector('[role="group"]') !== null) return true;
  const label = cell.querySelector('button')?.getAttribute('aria-label') ?? '';
  return !label.startsWith(offers === 'Schedule' ? 'Schedule' : 'Unschedule');
}

function EventList({ range, calendarId, pager }: { range: EventWindow; calendarId: string; pager: PagerState }) {
  const now = useClock();
  const events = useApi(
    () => api.get<{ results: CalendarEvent[]; next: string | null }>(`/calendar/events${query({ time_min: range.timeMin, time_max: range.timeMax, calendar_id: calendarId, limit: 25, cursor: pager.cursor })}`),
    `${range.timeMin}|${range.timeMax}|${calendarId}|${pager.cursor ?? ''}`,
  );
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  useReloadOnStatusChanges(() => void events.reload());

  // After Schedule bot or Unschedule the row's button is replaced by the other one (and was
  // disabled while the request ran, which drops focus): focus goes to the row's new button, or to
  // the notice when the row has none to offer.
  const tableRef = useRef<HTMLTableElement>(null);
  const noticeRef = useRef<HTMLParagraphElement>(null);
  // The row and what it offers once the action shows (Unschedule after a booking, Schedule after an
  // unscheduling). The list on screen can still be one from before the action: a reload the live
  // stream started meanwhile supersedes the action's own, and until it answers the row shows its
  // old button (or the question that asked). While such a reload is under way and the row shows
  // its old state, focus waits for it; it still counts as lost while it rests in that row's old
  // controls, which the new list removes. With no reload under way the list shown is the answer:
  // the row's button takes focus, or the notice when it has none to offer (the bot went to its
  // meeting meanwhile, and Unschedule is greyed).
  const [rowToFocus, setRowToFocus] = useState<{ eventId: string; offers: 'Unschedule' | 'Schedule' | null } | null>(null);
  useLayoutEffect(() => {
    if (rowToFocus === null) return;
    const cell = tableRef.current?.querySelector<HTMLElement>(`tr[data-event-id="${CSS.escape(rowToFocus.eventId)}"] td[data-label="Actions"]`) ?? null;
    if (!isFocusLost() && !(cell?.contains(document.activeElement) ?? false)) {
      setRowToFocus(null);
      return;
    }
    if (events.isLoading && cell !== null && rowToFocus.offers !== null && showsBefore(cell, rowToFocus.offers)) return;
    setRowToFocus(null);
    const button = cell?.querySelector<HTMLButtonElement>('button');
    if (button && !button.disabled) button.focus();
    else noticeRef.current?.focus();
  }, [rowToFocus, events.data, events.isLoading]);

  const act = async (event: CalendarEvent, what: 'schedule' | 'unschedule') => {
    setBusy(event.id);
    let isDone = false;
    try {
      if (what === 'schedule') {
        // One bot per event from here: the event id is the deduplication key.
        await api.post(`/calendar/schedule/${encodeURIComponent(event.id)}`, { deduplication_key: `dashboard:${event.id}`, bot_config: {} });
        setNotice({ kind: 'ok', text: `A bot is scheduled for ${event.title ?? 'the event'}.` });
      } else {
        await api.delete(`/calendar/schedule/${encodeURIComponent(event.id)}`, {});
        setNotice({ kind: 'ok', text: `${event.title ?? 'The event'} is unscheduled.` });
      }
      isDone = true;
    } catch (error) {
      setNotice({ kind: 'error', text: what === 'schedule' ? scheduleFailureText(error) : (error as Error).message });
    } finally {
      setBusy(null);
    }
    await events.reload();
    // Refused, the row offers what it did: focus takes what is there (or the notice saying why).
    setRowToFocus({ eventId: event.id, offers: isDone ? (what === 'schedule' ? 'Unschedule' : 'Schedule') : null });
  };

  return (
    <>
      <StaleNotice since={events.staleSince} />
      <Notice notice={notice} focusRef={noticeRef} />
      {events.error ? <ErrorState error={events.error} onRetry={() => void events.reload()} />
        : events.data === null ? <Loading what="events" />
          : events.data.results.length === 0 ? (
            <Empty title="No events in this window.">
              <p>Create events through the API (<code>POST /api/v1/calendar/events</code>) or connect a calendar.</p>
            </Empty>
          ) : (
            <section class="card">
              <table ref={tableRef} class="table responsive" aria-label="Events" aria-busy={events.isOutdated ? 'true' : undefined}>
                <thead>
                  <tr><th scope="col">Event</th><th scope="col">When ({zoneAbbreviation()})</th><th scope="col">Platform</th><th scope="col">Bot</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
                </thead>
                <tbody>
                  {events.data.results.map((event) => {
                    const bot = event.bots.find((b) => isLiveStatus(b.status)) ?? event.bots.at(-1);
                    const hasLiveBot = bot !== undefined && isLiveStatus(bot.status);
                    const whyNot = whyNotSchedulable(event, now);
                    const whyNotId = `why-not-${event.id}`;
                    return (
                      <tr key={event.id} data-event-id={event.id}>
                        <td data-label="Event">
                          <strong>{event.title ?? 'Untitled event'}</strong>
                          {event.status === 'cancelled' && <span class="badge badge-neutral">cancelled</span>}
                          <div class="muted small">{event.calendar_id ? 'from a connected calendar' : 'written through the API'}{event.recurring_event_id ? ', part of a series' : ''}</div>
                        </td>
                        <td data-label="When"><time dateTime={event.start_time} title={eventWhenTitle(event.start_time, event.end_time, allDayZone(event))}>{eventWhenWords(event.start_time, event.end_time, allDayZone(event))}</time></td>
                        <td data-label="Platform">{event.meeting_url ? platformWords(event.meeting_platform) : <span class="muted">no meeting link</span>}</td>
                        <td data-label="Bot">{bot ? <a href={`${BASE}/bots/${bot.bot_id}`} aria-label={`Bot for ${event.title ?? 'Untitled event'}: ${statusWords(bot.status)}`}><StatusBadge status={bot.status} /></a> : <span class="muted">No bot</span>}</td>
                        <td data-label="Actions">
                          {hasLiveBot ? (
                            <ConfirmButton label="Unschedule" question={`Cancel the bot of ${event.title ?? 'this event'}?`} confirmLabel="Cancel bot" tone="danger" ariaLabel={`Unschedule ${event.title ?? 'event'}`} disabled={busy === event.id || bot.status !== 'Scheduled'} onConfirm={() => act(event, 'unschedule')} />
                          ) : (
                            <>
                              <button type="button" class="button" disabled={busy === event.id || whyNot !== null} aria-describedby={whyNot ? whyNotId : undefined} onClick={() => void act(event, 'schedule')} aria-label={`Schedule bot for ${event.title ?? 'event'}`}>Schedule bot</button>
                              {whyNot && <div id={whyNotId} class="muted small" data-testid="why-not-schedulable">{whyNot}</div>}
                            </>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <Pager pager={pager} nextCursor={events.data.next} label="Events" top={tableRef} isBusy={events.isOutdated} />
            </section>
          )}
    </>
  );
}
