// "Connect a calendar" on the Calendars page: an ICS feed's address, or a Google or Microsoft
// account's OAuth client and refresh token, sent to the same routes an API client uses. The API
// runs the first sync before it answers, so the form says it is busy, then what the sync brought.
// A refusal is said beneath its field, which takes focus; what was typed stays (secrets too) so
// that it can be corrected. Secrets go from the form once connected, when another kind is picked,
// and with the page (the form's state is not kept anywhere else). An account connected here then
// offers its calendars to choose from (the API's calendar_ids, which only a connect takes): its
// credentials are held for that in memory until the choice is made, another connect starts, the
// connection is disconnected from its card, or the page goes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { availableCalendars, checkCalendarChoice, checkDraft, isChoiceUnchanged, clearedDraft, connectProblem, connectRequest, EMPTY_DRAFT, firstSyncWords, switchedDraft, type ConnectAnswer, type ConnectDraft, type ConnectField, type ConnectKind, type ConnectProblem } from '../connect-calendar.ts';
import { connectionNames, PROVIDER_WORDS } from '../connection-names.ts';
import { invalidFieldProps } from '../field-errors.ts';
import { countOf, withLocalTimes } from '../format.ts';
import type { RefObject } from 'preact';
import type { Connection } from '../types.ts';

/** The id of the input that holds each field, and of the text that says what is wrong with it. */
const INPUT_IDS: Record<ConnectField, string> = { icsUrl: 'connect-ics-url', clientId: 'connect-client-id', clientSecret: 'connect-client-secret', refreshToken: 'connect-refresh-token' };
const errorIdOf = (field: ConnectField) => `${INPUT_IDS[field]}-error`;
/** The first control of the form, which the empty state's button sends focus to. */
export const CONNECT_FIRST_CONTROL_ID = 'connect-kind-ics';

const KINDS: { kind: ConnectKind; label: string }[] = [
  { kind: 'ics', label: 'ICS feed' },
  { kind: 'google', label: 'Google Calendar' },
  { kind: 'outlook', label: 'Microsoft Outlook' },
];

/** Where an account's three values come from, in a sentence, by provider. */
const WHERE_FROM: Record<Exclude<ConnectKind, 'ics'>, string> = {
  google: 'From your own OAuth client in Google Cloud: run Google\'s sign-in flow for the account with offline access and the read-only Calendar scope (calendar.readonly), and paste the client id, its secret and the refresh token Google returns. Rollcall only reads; docs/providers/google-calendar.md in Rollcall\'s source has the steps.',
  outlook: 'From an app registered in Microsoft Entra ID with a client secret: run Microsoft\'s sign-in flow for the account with Calendars.Read, User.Read and offline_access, and paste the app\'s client id, the secret\'s value and the refresh token. Rollcall only reads; docs/providers/microsoft-outlook.md in Rollcall\'s source has the steps.',
};

interface Connected {
  answer: ConnectAnswer;
  name: string;
  /** The account's credentials as they connected it, to send a choice of its calendars with; null for a feed and once the choice was sent. */
  account: ConnectDraft | null;
  /** The answer is to a choice of calendars sent from the result. */
  isChoice: boolean;
  /** With a choice: the ids of the calendars synced before it. */
  syncedBefore?: ReadonlySet<string>;
  /** The choice was the calendars it synced already: nothing was sent. */
  isUnchanged?: boolean;
}

export function ConnectCalendarForm({ connections, onConnected, onOutcomeUnknown }: { connections: readonly Connection[]; onConnected: (answer: ConnectAnswer) => Promise<void>; onOutcomeUnknown: () => void }) {
  const [draft, setDraft] = useState<ConnectDraft>(EMPTY_DRAFT);
  const [problem, setProblem] = useState<ConnectProblem | null>(null);
  const [isBusy, setIsBusy] = useState(false);
  const [connected, setConnected] = useState<Connected | null>(null);
  const resultRef = useRef<HTMLDivElement>(null);
  const formErrorRef = useRef<HTMLParagraphElement>(null);
  // A refusal takes focus to its field (where its message is read with it), else to the form's message.
  useEffect(() => {
    if (problem === null) return;
    if (problem.field !== null) document.getElementById(INPUT_IDS[problem.field])?.focus();
    else formErrorRef.current?.focus();
  }, [problem]);
  useEffect(() => {
    if (connected !== null) resultRef.current?.focus();
  }, [connected]);
  // A connection disconnected from its card takes its result with it, and the credentials held for
  // its choice: sent, the choice would connect the account again. (Once the list has shown it: a
  // read of the list begun before it was connected may still answer without it.)
  const isListed = useRef(false);
  useEffect(() => {
    if (connected === null) {
      isListed.current = false;
      return;
    }
    if (connections.some((c) => c.calendar_id === connected.answer.calendar_id)) isListed.current = true;
    else if (isListed.current) setConnected(null);
  }, [connections, connected]);

  const set = (field: ConnectField, value: string) => {
    setDraft((d) => ({ ...d, [field]: value }));
  };
  const pick = (kind: ConnectKind) => {
    // Locked while a connect runs: its refusal is said on a field of the kind it was sent as.
    if (isBusy) return;
    setDraft((d) => switchedDraft(d, kind));
    setProblem(null);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    if (isBusy) return;
    setConnected(null);
    const found = checkDraft(draft);
    setProblem(found);
    if (found !== null) return;
    setIsBusy(true);
    const request = connectRequest(draft);
    try {
      const answer = await api.post<ConnectAnswer>(request.path, request.body);
      const names = connectionNames([...connections.filter((c) => c.calendar_id !== answer.calendar_id), answer]);
      // From the draft as it is now, not as it was sent: nothing typed meanwhile is kept either.
      setDraft((d) => clearedDraft(d));
      setProblem(null);
      await onConnected(answer);
      setConnected({ answer, name: names.get(answer.calendar_id) ?? answer.calendar_id, account: draft.kind === 'ics' ? null : draft, isChoice: false });
    } catch (error) {
      const said = connectProblem(error);
      setProblem(said);
      if (said.isOutcomeUnknown) onOutcomeUnknown();
    } finally {
      setIsBusy(false);
    }
  };

  /** An input's attributes; `hintId` names a text that always describes it, beside the error while there is one. */
  const fieldProps = (field: ConnectField, hintId?: string) => {
    // A refusal about more than one field (the client id or its secret) marks each, described by the one message.
    const isAlso = problem?.field != null && problem.alsoFields?.includes(field) === true;
    const invalid = invalidFieldProps(isAlso ? errorIdOf(problem!.field!) : errorIdOf(field), problem?.field === field || isAlso);
    const describedBy = [invalid['aria-describedby'], hintId].filter(Boolean).join(' ');
    return {
      id: INPUT_IDS[field],
      value: draft[field],
      onInput: (e: Event) => set(field, (e.currentTarget as HTMLInputElement).value),
      ...invalid,
      ...(describedBy === '' ? {} : { 'aria-describedby': describedBy }),
    };
  };
  const fieldError = (field: ConnectField) => problem?.field === field ? <p id={errorIdOf(field)} class="field-error">{withLocalTimes(problem.text)}</p> : null;

  return (
    <section class="card connect" id="connect" aria-labelledby="connect-title">
      <h2 id="connect-title">Connect a calendar</h2>
      <form onSubmit={(e) => void submit(e)} noValidate>
        {/* Busy is said on the fields alone: the status line below is outside it, so that it is read at once (WAI-ARIA 1.2, aria-busy). */}
        <div class="connect-body" aria-busy={isBusy ? 'true' : undefined}>
        <fieldset class="connect-kinds">
          <legend>What to connect</legend>
          {KINDS.map(({ kind, label }) => (
            <label key={kind} class="connect-kind">
              {/* While a connect runs the other kinds cannot be picked; the one picked stays enabled, keeping focus. */}
              <input type="radio" name="connect-kind" id={`connect-kind-${kind}`} value={kind} checked={draft.kind === kind} disabled={isBusy && draft.kind !== kind} onChange={() => pick(kind)} />
              <span>{label}</span>
            </label>
          ))}
        </fieldset>
        {draft.kind === 'ics' ? (
          <div class="connect-field">
            <label for={INPUT_IDS.icsUrl}>Feed address</label>
            <input type="url" inputMode="url" autocomplete="off" spellcheck={false} placeholder="https://… or webcal://…" {...fieldProps('icsUrl', 'connect-ics-hint')} />
            {fieldError('icsUrl')}
            <p class="hint" id="connect-ics-hint">The calendar's secret address in iCalendar format (https, http or webcal), as the calendar app shares it. Its path is kept secret: Rollcall shows only its host.</p>
          </div>
        ) : (
          <>
            <p class="hint" id="connect-account-hint">{WHERE_FROM[draft.kind]}</p>
            <div class="connect-field">
              <label for={INPUT_IDS.clientId}>Client id</label>
              <input type="text" autocomplete="off" spellcheck={false} {...fieldProps('clientId', 'connect-account-hint')} />
              {fieldError('clientId')}
            </div>
            <div class="connect-field">
              <label for={INPUT_IDS.clientSecret}>Client secret</label>
              <input type="password" autocomplete="new-password" spellcheck={false} {...fieldProps('clientSecret')} />
              {fieldError('clientSecret')}
            </div>
            <div class="connect-field">
              <label for={INPUT_IDS.refreshToken}>Refresh token</label>
              <input type="password" autocomplete="new-password" spellcheck={false} {...fieldProps('refreshToken')} />
              {fieldError('refreshToken')}
            </div>
          </>
        )}
        {problem !== null && problem.field === null && <p ref={formErrorRef} tabIndex={-1} class="notice notice-error" role="alert">{withLocalTimes(problem.text)}</p>}
        </div>
        <div class="actions">
          {/* Busy, it says so without being disabled: a disabled button would drop the keyboard focus it has. */}
          <button type="submit" class="button button-primary" aria-disabled={isBusy ? 'true' : undefined}>
            {isBusy ? 'Connecting and syncing…' : `Connect ${draft.kind === 'ics' ? 'feed' : 'account'}`}
          </button>
          <span class="muted" role="status">{isBusy ? 'Rollcall reads the calendar once before it answers; this can take a few seconds.' : ''}</span>
        </div>
      </form>
      {connected !== null && <ConnectedResult connected={connected} resultRef={resultRef} onChosen={async (answer) => {
        await onConnected(answer);
        setConnected((c) => c === null ? null : { ...c, answer, account: null, isChoice: true, syncedBefore: new Set(c.answer.available_calendars.filter((a) => a.synced).map((a) => a.id)) });
      }} onUnchanged={() => setConnected((c) => c === null ? null : { ...c, account: null, isChoice: true, isUnchanged: true })} />}
    </section>
  );
}

function ConnectedResult({ connected: { answer, name, account, isChoice, syncedBefore, isUnchanged = false }, resultRef, onChosen, onUnchanged }: { connected: Connected; resultRef: RefObject<HTMLDivElement | null>; onChosen: (answer: ConnectAnswer) => Promise<void>; onUnchanged: () => void }) {
  const calendars = availableCalendars(answer);
  const provider = PROVIDER_WORDS[answer.provider] ?? answer.provider;
  const syncedCount = calendars.filter((c) => c.synced).length;
  return (
    // Only the summary is a live region: the choice's controls beneath it are not read again whole at each change.
    <div ref={resultRef} id="connect-result" tabIndex={-1} class={`connect-result ${answer.sync.synced ? 'notice-ok' : 'notice-error'}`} data-testid="connect-result">
      <p role="status">{isChoice
        ? <strong>Calendars chosen: {provider} <span class="break">{name}</span> syncs {syncedCount} of its {calendars.length} calendars.</strong>
        : answer.replaced
          ? <strong>Already connected: {provider} <span class="break">{name}</span> was connected again with these credentials.</strong>
          : <strong>Connected: {provider} <span class="break">{name}</span>.</strong>} {isChoice ? choiceSyncWords(answer, syncedBefore ?? new Set(), isUnchanged) : firstSyncWords(answer.sync)}</p>
      {answer.provider !== 'ics' && calendars.length > 0 && (account !== null
        ? <CalendarChoice answer={answer} account={account} onChosen={onChosen} onUnchanged={onUnchanged} />
        : (
          <>
            <p>Its calendars ({syncedCount} of {calendars.length} synced):</p>
            <ul class="plain-list">
              {calendars.map((c) => <li key={c.id}><span class="break">{c.name}</span>{c.isPrimary ? ' (primary)' : ''}: {c.synced ? 'synced' : 'not synced'}</li>)}
            </ul>
            {isChoice && <p class="small">To choose again, connect the account again here: its credentials are not kept once a choice is made.</p>}
          </>
        ))}
    </div>
  );
}

/**
 * What a choice of calendars changed, in a sentence: what went with the calendars dropped, what
 * came with those added, and that the list is now fixed; or, the choice being what it synced, that
 * nothing was sent.
 */
function choiceSyncWords(answer: ConnectAnswer, syncedBefore: ReadonlySet<string>, isUnchanged: boolean): string {
  if (isUnchanged) {
    return answer.replaced
      ? 'Nothing changed: these are the calendars it synced, and nothing was sent, so it keeps them as it did.'
      : 'Nothing changed: these are the calendars it synced, and nothing was sent, so it keeps the calendars Rollcall picks by default, those the account creates later included.';
  }
  const { sync } = answer;
  if (!sync.synced) return `The sync after the choice failed${sync.error ? ` (${sync.error})` : ''}; Rollcall tries again by itself, and the card above says how it goes.`;
  const dropped = answer.available_calendars.filter((c) => !c.synced && syncedBefore.has(c.id)).length;
  const added = answer.available_calendars.filter((c) => c.synced && !syncedBefore.has(c.id)).length;
  const words = [
    ...(added > 0 ? [`the sync brought ${countOf(sync.created, 'event')} from ${added === 1 ? 'the calendar' : 'the calendars'} added`] : []),
    ...(dropped > 0 ? [`the events of ${dropped === 1 ? 'the calendar' : 'the calendars'} no longer synced are gone from Events, with their bots`] : []),
  ].join('; ');
  const fixed = 'It now syncs these calendars and no others: one the account adds later is not synced until it is chosen.';
  return words === '' ? `These are the calendars it synced. ${fixed}` : `${words.charAt(0).toUpperCase()}${words.slice(1)}. ${fixed}`;
}

/**
 * The account's calendars as checkboxes, those synced checked, and a button that connects the
 * account again with them as its `calendar_ids` (the only way the API takes a choice). Calendars
 * left unchecked stop being synced: their events go, and so do their bots. A choice is a fixed
 * list, so the calendars it synced already are not sent (they would stop the defaults from picking
 * up calendars the account adds later): `onUnchanged` is told instead.
 */
function CalendarChoice({ answer, account, onChosen, onUnchanged }: { answer: ConnectAnswer; account: ConnectDraft; onChosen: (answer: ConnectAnswer) => Promise<void>; onUnchanged: () => void }) {
  const calendars = availableCalendars(answer);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(() => new Set(calendars.filter((c) => c.synced).map((c) => c.id)));
  const [isBusy, setIsBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const problemRef = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (problem !== null) problemRef.current?.focus();
  }, [problem]);
  const toggle = (id: string, on: boolean) => setChosen((c) => {
    const next = new Set(c);
    if (on) next.add(id);
    else next.delete(id);
    return next;
  });
  const submit = async (e: Event) => {
    e.preventDefault();
    if (isBusy) return;
    // In the order the choice lists them: those synced first.
    const ids = calendars.filter((c) => chosen.has(c.id)).map((c) => c.id);
    const found = checkCalendarChoice(ids);
    setProblem(found);
    if (found !== null) return;
    if (isChoiceUnchanged(answer, ids)) {
      onUnchanged();
      return;
    }
    setIsBusy(true);
    const request = connectRequest(account, ids);
    try {
      await onChosen(await api.post<ConnectAnswer>(request.path, request.body));
    } catch (error) {
      setProblem(connectProblem(error).text);
    } finally {
      setIsBusy(false);
    }
  };
  return (
    <form class="calendar-choice" onSubmit={(e) => void submit(e)} noValidate>
      <fieldset aria-describedby="calendar-choice-hint">
        <legend>Its calendars ({calendars.filter((c) => c.synced).length} of {calendars.length} synced)</legend>
        <ul class="plain-list">
          {calendars.map((c) => (
            <li key={c.id}>
              <label>
                <input type="checkbox" name="calendar" value={c.id} checked={chosen.has(c.id)} disabled={isBusy} onChange={(e) => toggle(c.id, (e.currentTarget as HTMLInputElement).checked)} />
                {' '}<span><span class="break">{c.name}</span>{c.isPrimary ? ' (primary)' : ''}: {c.synced ? 'synced' : 'not synced'}</span>
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <p class="small" id="calendar-choice-hint">{answer.replaced
        ? 'Connected again, an account keeps the calendars it synced (an earlier choice included). '
        : 'Connected from this page, an account syncs the calendars Rollcall picks by default: its primary calendar and those it owns. '}
        To sync others, check them and send the choice: the account is connected again with it, with the credentials just typed (held by this page until then). A choice sent is a fixed list: calendars the account adds later are not synced until chosen here{answer.replaced ? '' : ', where the default picks up those it owns'}. Left as it is, nothing is sent and nothing changes. A calendar unchecked stops being synced: its events go from Events, and their bots are cancelled.</p>
      {problem !== null && <p ref={problemRef} tabIndex={-1} class="notice notice-error" role="alert">{withLocalTimes(problem)}</p>}
      <div class="actions">
        <button type="submit" class="button" aria-disabled={isBusy ? 'true' : undefined}>{isBusy ? 'Syncing the chosen calendars…' : 'Sync the chosen calendars'}</button>
      </div>
    </form>
  );
}
