// One bot: where it stands, why (the decision log), its launch attempts, its events and its
// webhook deliveries; cancel or move it while it is still waiting.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiFailure, BASE, query } from '../api.ts';
import { staleSince, useApi } from '../use-api.ts';
import { useStatusChanges } from '../live.ts';
import { eventWhenTitle, eventWhenWords, formatDateTime, formatRelative, launchTimerWords, platformWords, statusWords } from '../format.ts';
import { LocalTime } from '../components/local-time.tsx';
import { meetingTitleOfEvents } from '../meeting-title.ts';
import { allDayZonesOfEvents, DATA_DELETED_TITLE, endedJoinWords, isOwnIdKey } from '../ended-bot.ts';
import { isLiveStatus } from '../live-statuses.ts';
import type { BotDetail, CalendarEvent, Connection, Delivery } from '../types.ts';
import { atRiskCalendarWords, isOnlyRefused } from '../at-risk.ts';
import { connectionNamesWithKinds } from '../connection-names.ts';
import { reasonNamesConnection } from '../reason-calendars.ts';
import { deduplicationKeyWords, meetingIdentitiesOf, saysEventLetGo, statusReasonWords, UNLINKED_EVENT_WORDS } from '../bot-words.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { DeliveriesTable } from '../components/deliveries-table.tsx';
import { Empty, ErrorState, Loading, Notice, StaleNotice } from '../components/states.tsx';
import { LaunchAttempts } from '../components/launch-attempts.tsx';
import { DecisionLog } from '../components/decision-log.tsx';
import { LaunchFailingNote } from '../components/launch-failing.tsx';
import { RescheduleForm, type RescheduleDraft } from '../components/reschedule-form.tsx';
import { useClock } from '../clock.ts';
import { useNoticeFocus } from '../notice-focus.ts';
import { failedField, isFieldIn } from '../field-errors.ts';
import { useNavSection } from '../nav-section.ts';

interface BotPageData {
  bot: BotDetail;
  events: Map<string, CalendarEvent>;
  /**
   * The user's connections as they are now, for the names Calendars gives them: those an at-risk
   * bot's calendars are of, and those its decisions name. Null when not needed or not known (the
   * read failed): the page then names them by their ids.
   */
  connections: Connection[] | null;
}

/** Whether the bot's risk or decisions name a connection (by the decision's calendar_id or calendars, else in its text). */
function namesConnection(bot: BotDetail): boolean {
  return bot.at_risk !== null || bot.decisions.some((d) => typeof d.details.calendar_id === 'string' || Array.isArray(d.details.calendars) || reasonNamesConnection(d.reason));
}

/**
 * The bot, its events' titles and, when it names one, the connections, in one load: a read the page
 * makes by itself (a refresh that brings a decision naming a connection) marks all three as its
 * own (see readInBackground), never as a person's use. The connections are read only for such a
 * bot (the list costs a query per connection, and its key's rate limit); failing, they are left
 * out rather than failing the page.
 */
async function loadBot(id: string): Promise<BotPageData> {
  const bot = await api.get<BotDetail>(`/bots/${encodeURIComponent(id)}`);
  const events = new Map<string, CalendarEvent>();
  let connections: Connection[] | null = null;
  const readConnections = async () => {
    try {
      connections = (await api.get<{ connections: Connection[] }>('/calendar/connections')).connections;
    } catch {
      // named by their ids
    }
  };
  // Titles of the linked events; one that is gone since is simply left out.
  await Promise.all([...(namesConnection(bot) ? [readConnections()] : []), ...bot.events.slice(0, 10).map(async (link) => {
    const eventId = link.occurrence_id ?? link.event_id;
    try {
      events.set(eventId, await api.get<CalendarEvent>(`/calendar/events/${encodeURIComponent(eventId)}`));
    } catch {
      // deleted or not readable: shown by id
    }
  })]);
  return { bot, events, connections };
}

/**
 * What the page is called: the meeting (its first linked event's title, else any event's, else its
 * host), not the bot's name, which many bots share; as the Ended list names it. A bot whose data
 * was deleted has none of these left, and says so.
 */
function titleOf({ bot, events }: BotPageData): string {
  if (bot.data_deleted_at) return DATA_DELETED_TITLE;
  return meetingTitleOfEvents(bot.events.map((link) => ({ title: events.get(link.occurrence_id ?? link.event_id)?.title, is_linked: link.is_linked })), bot.meeting_url);
}

/** The titles of the bot's events the page read, by the ids a reason may name them by (an occurrence's, its series'). */
function eventTitlesOf({ bot, events }: BotPageData): Map<string, string> {
  const titles = new Map<string, string>();
  for (const link of bot.events) {
    const title = events.get(link.occurrence_id ?? link.event_id)?.title;
    if (!title) continue;
    if (link.occurrence_id !== null) titles.set(link.occurrence_id, title);
    if (!titles.has(link.event_id)) titles.set(link.event_id, title);
  }
  return titles;
}

export function BotPage({ id }: { id: string }) {
  const now = useClock();
  const detail = useApi(() => loadBot(id), id);
  const deliveries = useApi(() => api.get<{ deliveries: Delivery[] }>(`/bots/${encodeURIComponent(id)}/deliveries${query({ limit: 50 })}`), id);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [draft, setDraft] = useState<RescheduleDraft | null>(null);
  const [joinTimeError, setJoinTimeError] = useState<string | null>(null);
  useEffect(() => {
    setDraft(null);
    setJoinTimeError(null);
  }, [id]);
  const { noticeRef, focusNoticeSoon } = useNoticeFocus(detail.data);
  // The navigation marks the list the breadcrumb leads back to.
  useNavSection(detail.data === null ? null : isLiveStatus(detail.data.bot.status) ? 'upcoming' : 'ended');

  useStatusChanges((change) => {
    if (change.bot_id !== id) return;
    detail.setData((data) => data && { ...data, bot: { ...data.bot, status: change.status } });
    void detail.reload();
    void deliveries.reload();
  });

  if (detail.error instanceof ApiFailure && detail.error.status === 404) {
    return (
      <section class="page">
        <h1>Bot not found</h1>
        <Empty title={`No bot ${id} belongs to you.`}>
          <p>It may have been created with another user's API key, or the address is mistyped. <a href={BASE}>Back to Upcoming</a>.</p>
        </Empty>
      </section>
    );
  }
  if (detail.error) return <section class="page"><h1>Bot</h1><ErrorState error={detail.error} onRetry={() => void detail.reload()} /></section>;
  // A placeholder heading: the meeting's title replaces it (focus follows, see page-focus.ts).
  if (detail.data === null) return <section class="page"><h1 data-loading>Bot</h1><Loading what="the bot" /></section>;

  const { bot, events, connections } = detail.data;
  // The page's events by id: their titles, and the all-day ones' zones, name them in the reasons.
  const titles = eventTitlesOf(detail.data);
  const allDayZones = allDayZonesOfEvents(bot.events);
  const isWaiting = bot.status === 'Scheduled';
  const isAtRisk = isWaiting && bot.at_risk !== null;
  // A key said in words when the bot's booking set it; the key itself then goes under Ids.
  const keyWords = bot.data_deleted_at || isOwnIdKey(bot.deduplication_key, bot.bot_id) ? null : deduplicationKeyWords(bot.deduplication_key, bot.origin);
  // The meeting's identity, which the decision log leaves out when it names only this one meeting.
  const identities = meetingIdentitiesOf(bot.decisions);
  /**
   * Runs an action and says how it went; true when it was done. A refusal `isFieldError` claims is
   * said beside its field instead of in the notice.
   */
  const act = async (what: () => Promise<unknown>, done: string, isFieldError: (error: unknown) => boolean = () => false): Promise<boolean> => {
    try {
      await what();
      setNotice({ kind: 'ok', text: done });
      await detail.reload();
      void deliveries.reload();
      return true;
    } catch (error) {
      setNotice(isFieldError(error) ? null : { kind: 'error', text: (error as Error).message });
      return false;
    }
  };

  /**
   * Moves the bot to `iso`, once the bot read again still joins at `from`, the time the edit
   * started from. A page left open can show a join time moved since (a calendar change, another
   * client): the edit, sent, would move the bot from a time the user never saw (a day early, when
   * the meeting moved a day). Then nothing is sent, the page shows the new time, and the next
   * Reschedule starts from it.
   */
  const reschedule = async (iso: string, from: string): Promise<boolean> => {
    setJoinTimeError(null);
    let current: BotDetail;
    try {
      current = await api.get<BotDetail>(`/bots/${encodeURIComponent(bot.bot_id)}`);
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
      return false;
    }
    if (Date.parse(current.scheduled_join_time) !== Date.parse(from)) {
      detail.setData((data) => data && { ...data, bot: current });
      setDraft((d) => d && { ...d, from: current.scheduled_join_time });
      setNotice({ kind: 'error', text: `The join time changed meanwhile: the bot now joins ${formatDateTime(current.scheduled_join_time)}. Nothing was sent. Check the new time and try again.` });
      void detail.reload();
      return false;
    }
    return act(() => api.patch(`/calendar/scheduled/${encodeURIComponent(bot.bot_id)}`, { scheduled_join_time: iso }), 'The join time was moved.', (error) => {
      if (!isFieldIn(failedField(error), 'scheduled_join_time')) return false;
      setJoinTimeError((error as Error).message);
      return true;
    });
  };

  return (
    <section class="page">
      {/* Back to the list the bot is on: a live bot's is Upcoming, an ended one's Ended. */}
      <p class="breadcrumb">{isLiveStatus(bot.status) ? <a href={BASE}>Upcoming</a> : <a href={`${BASE}/ended`}>Ended</a>} / <span>{titleOf(detail.data)}</span></p>
      <div class="page-title">
        <h1>{titleOf(detail.data)}</h1>
        <StatusBadge status={bot.status} />
        {isAtRisk && <span class="badge badge-bad">At risk</span>}
      </div>
      {bot.bot_config.bot_name && <p class="page-subtitle" data-testid="bot-name">Bot: {bot.bot_config.bot_name}</p>}
      {bot.data_deleted_at && (
        <p class="page-subtitle" data-testid="data-deleted">
          Its stored data was deleted <LocalTime iso={bot.data_deleted_at} />: its meeting link, configuration, deduplication key, decision log and the reasons of its status changes are gone.
        </p>
      )}
      <StaleNotice since={staleSince(detail, deliveries)} />
      <Notice notice={notice} focusRef={noticeRef} />
      {isAtRisk && bot.at_risk && (
        <p class="warning" role="note" data-testid="at-risk-note">
          At risk: its meeting is only on {atRiskCalendarWords(bot.at_risk.calendars, connectionNamesWithKinds(connections ?? []))}, so Rollcall cannot see whether the meeting still exists. Unless access returns before its join time ({formatRelative(bot.scheduled_join_time)}), it is cancelled then instead of joining. {isOnlyRefused(bot.at_risk.calendars) ? 'To keep it, give the account read access to the calendar again (if the calendar was deleted, its meetings went with it)' : 'To keep it, connect the calendar\'s account again'}: see <a href={`${BASE}/calendars`}>Calendars</a>, where the calendar shows as revoked or failing.
        </p>
      )}
      <LaunchFailingNote bot={bot} nowMs={now} />

      <section class="card" aria-labelledby="summary-title">
        <h2 id="summary-title" class="visually-hidden">Summary</h2>
        <dl class="facts">
          <div><dt>Status</dt><dd data-testid="bot-status">{statusWords(bot.status)}</dd></div>
          {/* An ended bot's join time is what it was: one it ended before is no countdown. */}
          {isLiveStatus(bot.status)
            ? <div><dt>Joins</dt><dd><LocalTime iso={bot.scheduled_join_time} /> <span class="muted">{formatRelative(bot.scheduled_join_time)}</span></dd></div>
            : <div><dt>Join time</dt><dd><LocalTime iso={bot.scheduled_join_time} /> <span class="muted">{endedJoinWords(bot.scheduled_join_time, bot.status_timeline.at(-1)?.at, now)}</span></dd></div>}
          <div><dt>Meeting</dt><dd class="break">{bot.data_deleted_at ? <span class="muted">Deleted with its data</span>
            : /^https?:\/\//i.test(bot.meeting_url) ? <a href={bot.meeting_url} rel="noreferrer noopener" target="_blank">{bot.meeting_url}</a> : bot.meeting_url}</dd></div>
          <div><dt>Platform</dt><dd>{platformWords(bot.platform)}</dd></div>
          {/* launched_at is when the launch went out, not that the runtime took it: see Launch attempts. */}
          <div><dt>Launch sent</dt><dd>{formatDateTime(bot.launched_at)}</dd></div>
          <div><dt>Launch timer</dt><dd data-testid="launch-timer">{launchTimerWords(bot.schedule_state, bot)}</dd></div>
          {/* Rollcall's own stand-ins for a key are not the user's: none was given, or it went with the data. */}
          <div><dt>Deduplication key</dt>{bot.data_deleted_at ? <dd class="muted">Deleted with its data</dd>
            : isOwnIdKey(bot.deduplication_key, bot.bot_id) ? <dd class="muted" data-testid="no-key">None given</dd>
              : keyWords !== null ? <dd title={bot.deduplication_key}>{keyWords}</dd>
                : <dd class="mono break">{bot.deduplication_key}</dd>}</div>
          <div><dt>Webhooks to</dt>{bot.data_deleted_at ? <dd class="muted">Deleted with its data</dd> : bot.bot_config.callback_url ? <dd class="break">{bot.bot_config.callback_url}</dd> : <dd class="muted">None given</dd>}</div>
        </dl>
        {/* The ids an API client or the server's log names it by, out of the way of a person reading. */}
        <details class="ids" data-testid="bot-ids">
          <summary>Ids</summary>
          <dl class="id-list">
            <div><dt>Bot id</dt><dd class="mono break">{bot.bot_id}</dd></div>
            {keyWords !== null && <div><dt>Deduplication key</dt><dd class="mono break">{bot.deduplication_key}</dd></div>}
            {identities.length === 1 && <div><dt>Meeting identity</dt><dd class="mono break">{identities[0]}</dd></div>}
            {bot.events.map((link) => <div key={link.occurrence_id ?? link.event_id}><dt>Event id</dt><dd class="mono break">{link.occurrence_id ?? link.event_id}</dd></div>)}
          </dl>
        </details>
        {isWaiting && (
          <div class="actions">
            <RescheduleForm bot={bot} draft={draft} onDraft={setDraft} onReschedule={reschedule} error={joinTimeError} />
            <ConfirmButton label="Cancel bot" question="Cancel this bot? It will not join." confirmLabel="Yes, cancel it" tone="danger"
              onConfirm={async () => {
                if (await act(() => api.delete(`/calendar/scheduled/${encodeURIComponent(bot.bot_id)}`), 'The bot was cancelled.')) focusNoticeSoon();
              }} />
          </div>
        )}
      </section>

      <div class="columns">
        <section class="card" aria-labelledby="why-title">
          <h2 id="why-title">Why: the decision log</h2>
          {bot.decisions.length === 0 ? <p class="muted">No decisions yet.</p> : <DecisionLog decisions={bot.decisions} connections={connections} eventTitles={titles} allDayZones={allDayZones} />}
        </section>

        <section class="card" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Status timeline</h2>
          <ol class="log">
            {bot.status_timeline.map((t, i) => (
              <li key={i} data-status={t.status}>
                <LocalTime iso={t.at} />
                <StatusBadge status={t.status} />
                {/* Said once: "Cancelled from the dashboard" beside Cancelled reads "From the dashboard". */}
                <span>{statusReasonWords(t.status, t.reason, titles, allDayZones)}</span>
              </li>
            ))}
          </ol>
        </section>
      </div>

      <LaunchAttempts bot={bot} />

      <section class="card" aria-labelledby="events-title">
        <h2 id="events-title">Events</h2>
        {bot.events.length === 0 ? <p class="muted">{bot.data_deleted_at ? 'Not shown: its data was deleted.' : 'No events.'}</p> : (
          <ul class="plain-list">
            {bot.events.map((link) => {
              const eventId = link.occurrence_id ?? link.event_id;
              const event = events.get(eventId);
              return (
                <li key={eventId}>
                  <strong>{event?.title ?? 'Untitled event'}</strong>
                  {/* As Events says a meeting's time: from start to end, without seconds. */}
                  <div><time dateTime={link.start_time} title={eventWhenTitle(link.start_time, link.end_time, link.all_day_zone)}>{eventWhenWords(link.start_time, link.end_time, link.all_day_zone)}</time> {saysEventLetGo(link) ? <span class="badge badge-neutral">{UNLINKED_EVENT_WORDS}</span> : ''}</div>
                </li>
              );
            })}
          </ul>
        )}
      </section>

      <section class="card" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Webhook deliveries</h2>
        {deliveries.error ? <ErrorState error={deliveries.error} onRetry={() => void deliveries.reload()} />
          : deliveries.data === null ? <Loading what="deliveries" />
            : deliveries.data.deliveries.length === 0 ? <p class="muted">{bot.data_deleted_at ? 'Its sent webhooks were deleted with its data.' : bot.bot_config.callback_url ? 'Nothing sent yet.' : 'No webhook address was given for this bot (callback_url in its bot_config), so none are sent.'}</p>
              : <DeliveriesTable deliveries={deliveries.data.deliveries} showBot={false} onChanged={() => void deliveries.reload()} label="Webhook deliveries of this bot" />}
      </section>
    </section>
  );
}
