// Events in a window with each one's bot; schedule or unschedule from here.
import { useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { BASE } from '../api.ts';
import { useApi } from '../use-api.ts';
import { useStatusChanges } from '../live.ts';
import { formatDateTime, platformWords } from '../format.ts';
import type { CalendarEvent, Connection } from '../types.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Empty, ErrorState, Loading, Notice } from '../components/states.tsx';
import { Pager, usePager } from '../components/pager.tsx';
import { useClock } from '../clock.ts';

const LIVE = new Set(['Scheduled', 'Joining', 'InWaitingRoom', 'InMeeting']);

function dateInput(offsetDays: number): string {
  const date = new Date(Date.now() + offsetDays * 86_400_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Midnight of a date input's day in the browser's zone, as ISO 8601; `days` later for an end. */
function startOfDay(value: string, days = 0): string {
  const date = new Date(`${value}T00:00:00`);
  date.setDate(date.getDate() + days);
  return date.toISOString();
}

export function EventsPage() {
  useClock();
  const [from, setFrom] = useState(dateInput(-1));
  const [to, setTo] = useState(dateInput(7));
  const [calendarId, setCalendarId] = useState('');
  const pager = usePager();
  const events = useApi(
    () => api.get<{ results: CalendarEvent[]; next: string | null }>(`/calendar/events${query({ time_min: startOfDay(from), time_max: startOfDay(to, 1), calendar_id: calendarId, limit: 25, cursor: pager.cursor })}`),
    `${from}|${to}|${calendarId}|${pager.cursor ?? ''}`,
  );
  const connections = useApi(() => api.get<{ connections: Connection[] }>('/calendar/connections'), 'connections');
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  useStatusChanges(() => void events.reload());

  const act = async (event: CalendarEvent, what: 'schedule' | 'unschedule') => {
    setBusy(event.id);
    try {
      if (what === 'schedule') {
        // One bot per event from here: the event id is the deduplication key.
        await api.post(`/calendar/schedule/${encodeURIComponent(event.id)}`, { deduplication_key: `dashboard:${event.id}`, bot_config: {} });
        setNotice({ kind: 'ok', text: `A bot is scheduled for ${event.title ?? 'the event'}.` });
      } else {
        await api.delete(`/calendar/schedule/${encodeURIComponent(event.id)}`, {});
        setNotice({ kind: 'ok', text: `${event.title ?? 'The event'} is unscheduled.` });
      }
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    } finally {
      setBusy(null);
      void events.reload();
    }
  };

  return (
    <section class="page">
      <h1>Events</h1>
      <form class="filters card" onSubmit={(e) => e.preventDefault()}>
        <label><span>From</span><input type="date" value={from} required onChange={(e) => { setFrom(e.currentTarget.value); pager.reset(); }} /></label>
        <label><span>To</span><input type="date" value={to} required onChange={(e) => { setTo(e.currentTarget.value); pager.reset(); }} /></label>
        <label>
          <span>Calendar</span>
          <select value={calendarId} onChange={(e) => { setCalendarId(e.currentTarget.value); pager.reset(); }}>
            <option value="">Any</option>
            {(connections.data?.connections ?? []).map((c) => <option key={c.calendar_id} value={c.calendar_id}>{c.user_email ?? c.ics_url ?? c.calendar_id}</option>)}
          </select>
        </label>
      </form>
      <Notice notice={notice} />
      {events.error ? <ErrorState error={events.error} onRetry={() => void events.reload()} />
        : events.data === null ? <Loading what="events" />
          : events.data.results.length === 0 ? (
            <Empty title="No events in this window.">
              <p>Create events through the API (<code>POST /api/v1/calendar/events</code>) or connect a calendar.</p>
            </Empty>
          ) : (
            <section class="card">
              <table class="table responsive" aria-label="Events">
                <thead>
                  <tr><th scope="col">Event</th><th scope="col">When</th><th scope="col">Platform</th><th scope="col">Bot</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
                </thead>
                <tbody>
                  {events.data.results.map((event) => {
                    const bot = event.bots.find((b) => LIVE.has(b.status)) ?? event.bots.at(-1);
                    const hasLiveBot = bot !== undefined && LIVE.has(bot.status);
                    const isPast = Date.parse(event.end_time) <= Date.now();
                    return (
                      <tr key={event.id} data-event-id={event.id}>
                        <td data-label="Event">
                          <strong>{event.title ?? 'Untitled event'}</strong>
                          {event.status === 'cancelled' && <span class="badge badge-neutral">cancelled</span>}
                          <div class="muted small">{event.calendar_id ? 'from a connected calendar' : 'written through the API'}{event.recurring_event_id ? ', part of a series' : ''}</div>
                        </td>
                        <td data-label="When"><time dateTime={event.start_time}>{formatDateTime(event.start_time)}</time></td>
                        <td data-label="Platform">{event.meeting_url ? platformWords(event.meeting_platform) : <span class="muted">no meeting link</span>}</td>
                        <td data-label="Bot">{bot ? <a href={`${BASE}/bots/${bot.bot_id}`}><StatusBadge status={bot.status} /></a> : <span class="muted">No bot</span>}</td>
                        <td data-label="Actions">
                          {hasLiveBot ? (
                            <ConfirmButton label="Unschedule" question={`Cancel the bot of ${event.title ?? 'this event'}?`} confirmLabel="Cancel bot" tone="danger" ariaLabel={`Unschedule ${event.title ?? 'event'}`} disabled={busy === event.id || bot.status !== 'Scheduled'} onConfirm={() => act(event, 'unschedule')} />
                          ) : (
                            <button type="button" class="button" disabled={busy === event.id || !event.meeting_url || isPast || event.status === 'cancelled'} onClick={() => void act(event, 'schedule')} aria-label={`Schedule a bot for ${event.title ?? 'event'}`}>Schedule bot</button>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <Pager pager={pager} nextCursor={events.data.next} label="Events" />
            </section>
          )}
    </section>
  );
}
