// Calendar connections and their health; sync now, disconnect; auto-schedule and its bot config.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query } from '../api.ts';
import { useApi } from '../use-api.ts';
import { countOf, formatDateTime, formatRelative, withLocalTimes } from '../format.ts';
import type { AutoSchedulePreview, AutoScheduleRules, AutoScheduleSettings, Connection, UpcomingBot } from '../types.ts';
import { connectionNames, PROVIDER_WORDS } from '../connection-names.ts';
import { describeSyncError } from '../sync-error.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { ConfirmButton, ConfirmQuestion, isFocusLost } from '../components/confirm-button.tsx';
import { Empty, ErrorState, Loading, Notice, StaleNotice } from '../components/states.tsx';
import { useClock } from '../clock.ts';
import { useNoticeFocus } from '../notice-focus.ts';
import { failedField, invalidFieldProps, isFieldIn } from '../field-errors.ts';
import { CONNECT_FIRST_CONTROL_ID, ConnectCalendarForm } from '../components/connect-calendar-form.tsx';
import type { ConnectAnswer } from '../connect-calendar.ts';

/** When the list is read a second time after a connect whose answer was lost. */
const RECHECK_AFTER_LOST_ANSWER_MS = 3_000;

export function CalendarsPage() {
  useClock();
  const connections = useApi(() => api.get<{ connections: Connection[] }>('/calendar/connections'), 'connections');
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [syncing, setSyncing] = useState<string | null>(null);
  const names = connectionNames(connections.data?.connections ?? []);
  const nameOf = (connection: Connection) => names.get(connection.calendar_id) ?? connection.calendar_id;
  const { noticeRef, focusNoticeSoon } = useNoticeFocus(connections.data);

  const sync = async (connection: Connection) => {
    if (syncing !== null) return;
    setSyncing(connection.calendar_id);
    try {
      const answer = await api.post<{ message: string; synced: boolean }>(`/calendar/connections/${encodeURIComponent(connection.calendar_id)}/sync`);
      setNotice({ kind: answer.synced ? 'ok' : 'error', text: `${nameOf(connection)}: ${answer.message}` });
    } catch (error) {
      // A sync the provider asked to put off (calendar_sync_deferred) names the wait's end: in the viewer's time.
      setNotice({ kind: 'error', text: `${nameOf(connection)}: ${withLocalTimes((error as Error).message)}` });
    } finally {
      setSyncing(null);
      void connections.reload();
    }
  };
  const disconnect = async (connection: Connection) => {
    try {
      const answer = await api.delete<{ message: string; bots_cancelled: number; events_deleted: number }>(`/calendar/connections/${encodeURIComponent(connection.calendar_id)}`);
      setNotice({ kind: 'ok', text: `${nameOf(connection)} disconnected: ${countOf(answer.events_deleted, 'event')} removed, ${countOf(answer.bots_cancelled, 'bot')} cancelled.` });
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
      void connections.reload();
      return;
    }
    await connections.reload();
    focusNoticeSoon();
  };

  /** A new connection shows at once (the answer is the connection as the list shows it), then the list is read again. */
  const connected = async (answer: ConnectAnswer) => {
    setNotice(null);
    connections.setData((data) => data === null ? data : { ...data, connections: [...data.connections.filter((c) => c.calendar_id !== answer.calendar_id), answer] });
    await connections.reload();
  };
  /**
   * A connect whose answer was lost may have connected all the same: the list is read at once, and
   * again a few seconds later (a proxy can give up while Rollcall still runs the first sync, which
   * stores the connection only once it is done).
   */
  const recheckTimer = useRef<number | null>(null);
  useEffect(() => () => {
    if (recheckTimer.current !== null) window.clearTimeout(recheckTimer.current);
  }, []);
  const outcomeUnknown = () => {
    void connections.reload();
    if (recheckTimer.current !== null) window.clearTimeout(recheckTimer.current);
    recheckTimer.current = window.setTimeout(() => {
      recheckTimer.current = null;
      void connections.reload();
    }, RECHECK_AFTER_LOST_ANSWER_MS);
  };

  return (
    <section class="page">
      <h1>Calendars</h1>
      <StaleNotice since={connections.staleSince} />
      <Notice notice={notice} focusRef={noticeRef} />
      {connections.error ? <ErrorState error={connections.error} onRetry={() => void connections.reload()} />
        : connections.data === null ? <Loading what="calendar connections" />
          : connections.data.connections.length === 0 ? (
            <Empty title="No calendars are connected.">
              <p>Connect an ICS feed, a Google account or a Microsoft account below (or through the API, <code>POST /api/v1/calendar/create_ics_calendar</code> and its siblings). Its events then appear on Events.</p>
              <button type="button" class="button" onClick={() => {
                const first = document.getElementById(CONNECT_FIRST_CONTROL_ID);
                first?.scrollIntoView({ block: 'center' });
                first?.focus();
              }}>Connect a calendar</button>
            </Empty>
          ) : (
            <ul class="cards">
              {connections.data.connections.map((c) => {
                const isRevoked = c.status === 'auth_revoked';
                const isFailing = !isRevoked && c.sync_failing_since !== null;
                return (
                  <li key={c.calendar_id} class={`card connection${isRevoked || isFailing ? ' connection-alert' : ''}`} data-calendar-id={c.calendar_id} aria-labelledby={`conn-${c.calendar_id}`}>
                    <div class="card-header">
                      <h2 id={`conn-${c.calendar_id}`} class="break">{nameOf(c)}</h2>
                      <StatusBadge status={isFailing ? 'failing' : c.status} label={isRevoked ? 'Access revoked' : isFailing ? 'Sync failing' : c.status === 'active' ? 'Active' : c.status} />
                    </div>
                    {isRevoked && <RevokedNote connection={c} />}
                    {isFailing && <FailingNote connection={c} />}
                    <dl class="facts">
                      <div><dt>Provider</dt><dd>{PROVIDER_WORDS[c.provider] ?? c.provider}</dd></div>
                      <div><dt>Last successful sync</dt><dd>{formatDateTime(c.last_sync_at)} <span class="muted">{formatRelative(c.last_sync_at)}</span></dd></div>
                      <div><dt>Next sync</dt><dd>{isRevoked ? <>an access check {formatRelative(c.next_sync_at)}; syncing resumes when it passes or the account is connected again</> : <>{formatDateTime(c.next_sync_at)} <span class="muted">{formatRelative(c.next_sync_at)}</span></>}</dd></div>
                      <div><dt>Last error</dt><dd class="break">{c.last_error ? <>{describeSyncError(c.last_error, c.calendars)} <span class="muted">{formatRelative(c.last_error_at)}</span></> : 'none'}</dd></div>
                      <div><dt>Push</dt><dd>{!c.push_enabled ? (c.provider === 'ics' ? 'not offered for ICS feeds; polled' : 'off; polled') : pushSummary(c)}</dd></div>
                    </dl>
                    {c.calendars.length > 0 && (
                      <details>
                        <summary>{c.calendars.length} {c.calendars.length === 1 ? 'calendar' : 'calendars'}</summary>
                        <ul class="plain-list">
                          {c.calendars.map((cal) => (
                            <li key={cal.id}>
                              <strong>{cal.summary ?? cal.id}</strong>{cal.isPrimary ? ' (primary)' : ''}: push {cal.push.active ? `channel ${cal.push.channel_id}, expires ${formatDateTime(cal.push.expires_at)}` : cal.push.error ? `failed: ${describeSyncError(cal.push.error, c.calendars)}` : 'none'}
                              {cal.read_error && <div class="break">Not syncing: {describeSyncError(cal.read_error, c.calendars)}{cal.next_read_at ? <span class="muted"> (tried again {formatRelative(cal.next_read_at)}, or now with Sync now)</span> : null}</div>}
                              {cal.access_refused_since && <div class="break">Access refused: a bot whose meetings are only on calendars Rollcall cannot read is not launched unless this one reads again before it joins</div>}
                            </li>
                          ))}
                        </ul>
                      </details>
                    )}
                    {/* The ids an API client or the server's log names it by, out of the way of a person reading. */}
                    <details class="ids" data-testid="connection-ids">
                      <summary>Ids</summary>
                      <dl class="id-list">
                        <div><dt>Connection id</dt><dd class="mono break">{c.calendar_id}</dd></div>
                        {c.provider === 'ics' && c.ics_url && <div><dt>Feed address</dt><dd class="break"><span class="mono">{c.ics_url}</span> <span class="muted">(its path is not shown: it is often the feed's secret)</span></dd></div>}
                      </dl>
                    </details>
                    <div class="actions">
                      {/* Busy, it says so without being disabled: a disabled button would drop the keyboard focus it has. */}
                      <button type="button" class="button" disabled={isRevoked} aria-disabled={syncing === c.calendar_id ? 'true' : undefined} onClick={() => void sync(c)} aria-label={`Sync now for ${nameOf(c)}`}>
                        {syncing === c.calendar_id ? 'Syncing…' : 'Sync now'}
                      </button>
                      <ConfirmButton label="Disconnect" tone="danger" ariaLabel={`Disconnect ${nameOf(c)}`} question="Disconnect this calendar? Its events are removed and their waiting bots cancelled." confirmLabel="Yes, disconnect" onConfirm={() => disconnect(c)} />
                    </div>
                  </li>
                );
              })}
            </ul>
          )}
      <ConnectCalendarForm connections={connections.data?.connections ?? []} onConnected={connected} onOutcomeUnknown={outcomeUnknown} />
      <AutoSchedule />
    </section>
  );
}

/** How many waiting bots the revoked-access note counts, at most (one page of the upcoming list). */
const AT_RISK_COUNT_LIMIT = 100;

/**
 * A revoked connection: nothing syncs, and its bots that depend on it alone are cancelled at their
 * join time unless access returns first (spec section 12). How many those are is read from the
 * upcoming list filtered to this calendar (each bot says whether it is at risk); the note stands
 * without the number while it loads or if the list cannot be read.
 */
function RevokedNote({ connection }: { connection: Connection }) {
  const waiting = useApi(
    () => api.get<{ bots: UpcomingBot[]; has_more: boolean }>(`/bots/upcoming${query({ calendar_id: connection.calendar_id, status: 'Scheduled', limit: AT_RISK_COUNT_LIMIT })}`),
    connection.calendar_id,
  );
  const atRisk = waiting.data?.bots.filter((b) => b.at_risk !== null).length;
  const count = atRisk === undefined ? null
    : atRisk === 0 ? 'No upcoming bot depends on this calendar alone.'
      : `${waiting.data?.has_more ? 'At least ' : ''}${countOf(atRisk, 'upcoming bot')} ${atRisk === 1 ? 'is' : 'are'} at risk now.`;
  return (
    <p class="warning" role="note">
      The provider withdrew Rollcall's access, so nothing syncs. Bots whose meetings are only on this calendar will be cancelled at their join time unless access returns before then.
      {count && <> <strong data-testid="at-risk-count">{count}</strong></>} Connect the account again to resume.
    </p>
  );
}

/**
 * Why a failing connection's events may be stale: all of them, or (once a report names some of
 * its calendars only) those calendars' events. Whether the others sync now is not claimed: the
 * whole account may fail too before a report says so.
 */
function FailingNote({ connection: c }: { connection: Connection }) {
  const since = <>{formatDateTime(c.sync_failing_since)} ({formatRelative(c.sync_failing_since)})</>;
  const failing = c.failing_calendars;
  if (failing === null || failing.length === 0) {
    return <p class="warning" role="note">Syncing has failed since {since}. Events are as last synced and bots launch on them; changes made in the calendar since are not seen. Rollcall keeps retrying.</p>;
  }
  // A calendar the report names may have left the connection since: shown by its id.
  const named = failing.map((id) => c.calendars.find((cal) => cal.id === id));
  const names = failing.map((id, i) => named[i]?.summary ?? id);
  const total = Math.max(c.calendars.length, failing.length);
  // A calendar that refuses its reader (or is gone) is not one whose events merely went stale:
  // a bot whose meetings are only there is not launched (docs/calendar-sync.md).
  const refused = named.filter((cal) => cal?.access_refused_since);
  const consequence = refused.length === 0
    ? 'Their events are as last synced and bots launch on them.'
    : refused.length === failing.length
      ? `${failing.length === 1 ? 'It refuses' : 'They refuse'} Rollcall or ${failing.length === 1 ? 'is' : 'are'} gone: a bot whose meetings are only there is not launched unless access returns before it joins.`
      : `Those that refuse Rollcall or are gone (${refused.map((cal) => cal!.summary ?? cal!.id).join(', ')}) launch no bot whose meetings are only there, unless access returns before it joins; the others' events are as last synced and bots launch on them.`;
  return (
    <p class="warning" role="note">
      {failing.length} of {total} {total === 1 ? 'calendar' : 'calendars'} {failing.length === 1 ? 'does' : 'do'} not sync (failing since {since}): <strong class="break">{names.join(', ')}</strong>.
      {' '}{consequence} Rollcall keeps retrying.
    </p>
  );
}

function pushSummary(connection: Connection): string {
  const active = connection.calendars.filter((c) => c.push.active);
  if (active.length === 0) return 'no live channel; polled';
  const soonest = active.map((c) => c.push.expires_at).filter((e): e is string => e !== null).sort()[0];
  return `${active.length} of ${connection.calendars.length} live${soonest ? `; first expires ${formatDateTime(soonest)}` : ''}`;
}

const RULE_KEYS = ['organizer', 'response', 'participants', 'recurring'] as const;
type RuleKey = typeof RULE_KEYS[number];

/** A refusal about one of auto-schedule's fields: the default bot config's text, or one rule. */
interface AutoScheduleFieldError {
  field: 'config' | RuleKey;
  text: string;
}

/** The id of the input that holds a field, and of the text that says what is wrong with it. */
const FIELD_INPUT_IDS: Record<AutoScheduleFieldError['field'], string> = { config: 'default-config', organizer: 'rule-organizer', response: 'rule-response', participants: 'rule-participants', recurring: 'rule-recurring' };
const CONFIG_ERROR_ID = 'default-config-error';
const RULES_ERROR_ID = 'rules-error';

/** The field of the form a refusal is about, or null when it names none of them. */
function autoScheduleFieldError(error: unknown): AutoScheduleFieldError | null {
  const field = failedField(error);
  const text = (error as Error).message;
  if (isFieldIn(field, 'default_bot_config')) return { field: 'config', text };
  const rule = RULE_KEYS.find((key) => isFieldIn(field, `rules.${key}`));
  return rule ? { field: rule, text } : null;
}

function AutoSchedule() {
  const settings = useApi(() => api.get<AutoScheduleSettings>('/calendar/auto-schedule/settings'), 'auto');
  const [configText, setConfigText] = useState<string | null>(null);
  const [rulesDraft, setRulesDraft] = useState<AutoScheduleRules | null>(null);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [fieldError, setFieldError] = useState<AutoScheduleFieldError | null>(null);
  // The field a refusal is about takes focus, where its message is read with it.
  useEffect(() => {
    if (fieldError !== null) document.getElementById(FIELD_INPUT_IDS[fieldError.field])?.focus();
  }, [fieldError]);
  const [isBusy, setIsBusy] = useState(false);
  /** The switch shows the state asked for while the request runs, then the server's. */
  const [desired, setDesired] = useState<boolean | null>(null);
  /** Saving would take bots back: asked first, with what the preview found, and where focus goes after. */
  const [asking, setAsking] = useState<{ preview: AutoSchedulePreview; config: unknown; rules: AutoScheduleRules; returnTo: HTMLElement | null } | null>(null);
  if (settings.error) return <section class="card"><h2>Auto-schedule</h2><ErrorState error={settings.error} onRetry={() => void settings.reload()} /></section>;
  if (settings.data === null) return <section class="card"><h2>Auto-schedule</h2><Loading what="auto-schedule settings" /></section>;
  const isOn = settings.data.auto_schedule_enabled;
  // Before auto-schedule was ever set up the stored config is empty: a named bot is suggested.
  const stored = settings.data.default_bot_config;
  const text = configText ?? JSON.stringify(Object.keys(stored).length === 0 && !isOn ? { bot_name: 'Rollcall notes' } : stored, null, 2);
  const rules = rulesDraft ?? settings.data.rules;
  const setRule = <K extends keyof AutoScheduleRules>(key: K, value: AutoScheduleRules[K]) => setRulesDraft({ ...rules, [key]: value });
  /** Saves (turning it on if off); when that would take bots back, asks first, naming the meetings. */
  /** Says why saving failed: beside the field it is about, else in the notice. */
  const showFailure = (error: unknown) => {
    const onField = autoScheduleFieldError(error);
    setFieldError(onField);
    setNotice(onField ? null : { kind: 'error', text: (error as Error).message });
  };
  const save = async () => {
    let config: unknown;
    setFieldError(null);
    try {
      config = JSON.parse(text);
    } catch {
      setNotice(null);
      setFieldError({ field: 'config', text: 'The default bot config is not valid JSON.' });
      setDesired(null);
      return;
    }
    const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setIsBusy(true);
    try {
      const preview = await api.post<AutoSchedulePreview>('/calendar/auto-schedule/preview', { default_bot_config: config, rules });
      if (preview.bots_taken_back > 0) {
        // Nothing is saved yet: the switch shows the state as it is while the question stands.
        setNotice(null);
        setDesired(null);
        setAsking({ preview, config, rules, returnTo });
        return;
      }
    } catch (error) {
      showFailure(error);
      setDesired(null);
      return;
    } finally {
      setIsBusy(false);
    }
    await enable(config, rules);
  };
  const closeQuestion = (focus: 'always' | 'if-lost') => {
    const returnTo = asking?.returnTo;
    setAsking(null);
    setDesired(null);
    if (focus === 'always' || isFocusLost()) requestAnimationFrame(() => returnTo?.focus());
  };
  /** Saves what was previewed (or what the form holds when nothing needed asking). */
  const enable = async (config: unknown, savedRules: AutoScheduleRules) => {
    setIsBusy(true);
    try {
      const answer = await api.post<AutoScheduleSettings>('/calendar/auto-schedule/enable', { default_bot_config: config, rules: savedRules });
      setNotice({ kind: 'ok', text: enabledNotice(answer) });
      setFieldError(null);
      setConfigText(null);
      setRulesDraft(null);
      await settings.reload();
    } catch (error) {
      showFailure(error);
    } finally {
      setIsBusy(false);
      setDesired(null);
    }
  };
  const disable = async () => {
    setIsBusy(true);
    try {
      const answer = await api.post<AutoScheduleSettings>('/calendar/auto-schedule/disable');
      setNotice({ kind: 'ok', text: answer.message ?? 'Auto-schedule is off.' });
      await settings.reload();
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    } finally {
      setIsBusy(false);
      setDesired(null);
    }
  };
  return (
    <section class="card" aria-labelledby="auto-title">
      <div class="card-header">
        <h2 id="auto-title">Auto-schedule</h2>
        <label class="switch">
          {/* Busy, it says so without being disabled: a disabled switch would drop the keyboard focus it has. */}
          <input type="checkbox" role="switch" aria-label="Auto-schedule" aria-describedby="auto-state" checked={desired ?? isOn} disabled={asking !== null} aria-disabled={isBusy ? 'true' : undefined} onChange={(e) => {
            if (isBusy) {
              e.currentTarget.checked = desired ?? isOn;
              return;
            }
            setDesired(!isOn);
            void (isOn ? disable() : save());
          }} />
          <span id="auto-state">{(desired ?? isOn) ? `On: ${rulesSummary(settings.data.rules)}` : 'Off'}</span>
        </label>
      </div>
      <StaleNotice since={settings.staleSince} />
      <Notice notice={notice} />
      <fieldset class="filters rules" disabled={asking !== null}>
        <legend>Which synced meetings get a bot</legend>
        <label><span>Organizer</span>
          <select id="rule-organizer" value={rules.organizer} {...invalidFieldProps(RULES_ERROR_ID, fieldError?.field === 'organizer')} onChange={(e) => setRule('organizer', e.currentTarget.value as AutoScheduleRules['organizer'])}>
            <option value="anyone">Anyone</option>
            <option value="me">Only me</option>
          </select>
        </label>
        <label><span>My answer</span>
          <select id="rule-response" value={rules.response} {...invalidFieldProps(RULES_ERROR_ID, fieldError?.field === 'response')} onChange={(e) => setRule('response', e.currentTarget.value as AutoScheduleRules['response'])}>
            <option value="any">Any but declined</option>
            <option value="accepted">Accepted only</option>
          </select>
        </label>
        <label><span>Participants</span>
          <select id="rule-participants" value={rules.participants} {...invalidFieldProps(RULES_ERROR_ID, fieldError?.field === 'participants')} onChange={(e) => setRule('participants', e.currentTarget.value as AutoScheduleRules['participants'])}>
            <option value="any">Anyone</option>
            <option value="external">Someone from outside</option>
            <option value="internal">My domain only</option>
          </select>
        </label>
        <label><span>Recurring meetings</span>
          <select id="rule-recurring" value={rules.recurring} {...invalidFieldProps(RULES_ERROR_ID, fieldError?.field === 'recurring')} onChange={(e) => setRule('recurring', e.currentTarget.value as AutoScheduleRules['recurring'])}>
            <option value="include">Included</option>
            <option value="exclude">Left out</option>
          </select>
        </label>
      </fieldset>
      {fieldError !== null && fieldError.field !== 'config' && <p id={RULES_ERROR_ID} class="field-error" role="alert">{fieldError.text}</p>}
      <label for="default-config">Default bot config (JSON) for auto-scheduled bots</label>
      <textarea id="default-config" rows={6} spellcheck={false} class="mono" value={text} disabled={asking !== null} {...invalidFieldProps(CONFIG_ERROR_ID, fieldError?.field === 'config')} onInput={(e) => setConfigText(e.currentTarget.value)} />
      {fieldError?.field === 'config' && <p id={CONFIG_ERROR_ID} class="field-error" role="alert">{fieldError.text}</p>}
      <p class="hint">The same fields as <code>bot_config</code> when scheduling, e.g. <code>bot_name</code> and <code>callback_url</code>. Bots already scheduled keep theirs.</p>
      <p class="hint">Calendar feeds (ICS) name no owner: with a rule about the organizer, your answer or the participants, their meetings get no bot.</p>
      <p class="hint">A meeting that stops passing the rules (new rules saved, a guest removed) loses the bot auto-schedule booked for it, unless that bot is already in the meeting; bots you booked yourself stay.</p>
      {isOn && <button type="button" class="button" disabled={isBusy || asking !== null} onClick={() => void save()}>Save rules and config</button>}
      {asking && (
        <ConfirmQuestion
          question={`Saving takes the bot from ${plural(asking.preview.bots_taken_back, 'meeting')} that no longer ${asking.preview.bots_taken_back === 1 ? 'passes' : 'pass'} the rules:`}
          confirmLabel={isOn ? 'Save and take back' : 'Turn on and take back'}
          keepLabel="Keep editing"
          onConfirm={async () => {
            await enable(asking.config, asking.rules);
            closeQuestion('if-lost');
          }}
          onKeep={() => closeQuestion('always')}
        >
          <ul aria-label="Meetings that would lose their bot">
            {asking.preview.taken_back.map((meeting) => (
              <li key={`${meeting.event_id} ${meeting.bot_id}`}>
                <strong>{meeting.title ?? 'Untitled meeting'}</strong>, {formatDateTime(meeting.start_time)}: {meeting.refusal}
                {meeting.bot_cancelled ? '' : ' (its bot stays for another copy of the meeting)'}
              </li>
            ))}
            {asking.preview.bots_taken_back > asking.preview.taken_back.length && <li>and {asking.preview.bots_taken_back - asking.preview.taken_back.length} more</li>}
          </ul>
        </ConfirmQuestion>
      )}
    </section>
  );
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** What saving says: what the server answered, and what changed for the meetings. */
function enabledNotice(answer: AutoScheduleSettings): string {
  const changes: string[] = [];
  if (answer.bots_scheduled) changes.push(`${plural(answer.bots_scheduled, 'bot')} booked`);
  if (answer.bots_taken_back) changes.push(`${plural(answer.bots_taken_back, 'meeting')} no longer passing the rules lost ${answer.bots_taken_back === 1 ? 'its bot' : 'their bots'}`);
  const said = answer.message ?? 'Auto-schedule is on';
  return changes.length === 0 ? `${said}.` : `${said}: ${changes.join(', ')}.`;
}

/** What the switch says while on. */
function rulesSummary(rules: AutoScheduleRules): string {
  const isDefault = rules.organizer === 'anyone' && rules.response === 'any' && rules.participants === 'any' && rules.recurring === 'include';
  return isDefault ? 'every synced meeting gets a bot' : 'synced meetings that pass the rules below get a bot';
}
