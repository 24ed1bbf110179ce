// "Connect a calendar" on the Calendars page: an ICS feed's address, or a Google or Microsoft
// account's OAuth client and refresh token, sent to the same routes an API client uses. The API
// runs the first sync before it answers, so the form says it is busy, then what the sync brought.
// A refusal is said beneath its field, which takes focus; what was typed stays (secrets too) so
// that it can be corrected. Secrets go once connected, when another kind is picked, and with the
// page (the form's state is not kept anywhere else).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { availableCalendars, checkDraft, clearedDraft, connectProblem, connectRequest, EMPTY_DRAFT, firstSyncWords, switchedDraft, type ConnectAnswer, type ConnectDraft, type ConnectField, type ConnectKind, type ConnectProblem } from '../connect-calendar.ts';
import { connectionNames, PROVIDER_WORDS } from '../connection-names.ts';
import { invalidFieldProps } from '../field-errors.ts';
import { withLocalTimes } from '../format.ts';
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
      setConnected({ answer, name: names.get(answer.calendar_id) ?? answer.calendar_id });
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
      {connected !== null && <ConnectedResult connected={connected} resultRef={resultRef} />}
    </section>
  );
}

function ConnectedResult({ connected: { answer, name }, resultRef }: { connected: Connected; resultRef: RefObject<HTMLDivElement | null> }) {
  const calendars = availableCalendars(answer);
  return (
    <div ref={resultRef} id="connect-result" tabIndex={-1} class={`connect-result ${answer.sync.synced ? 'notice-ok' : 'notice-error'}`} role="status" data-testid="connect-result">
      <p>{answer.replaced
        ? <strong>Already connected: {PROVIDER_WORDS[answer.provider] ?? answer.provider} <span class="break">{name}</span> was connected again with these credentials.</strong>
        : <strong>Connected: {PROVIDER_WORDS[answer.provider] ?? answer.provider} <span class="break">{name}</span>.</strong>} {firstSyncWords(answer.sync)}</p>
      {answer.provider !== 'ics' && calendars.length > 0 && (
        <>
          <p>Its calendars ({calendars.filter((c) => c.synced).length} of {calendars.length} synced):</p>
          <ul class="plain-list">
            {calendars.map((c, i) => <li key={i}><span class="break">{c.name}</span>{c.isPrimary ? ' (primary)' : ''}: {c.synced ? 'synced' : 'not synced'}</li>)}
          </ul>
          {calendars.some((c) => !c.synced) && (answer.replaced
            ? <p class="small">Connected again, an account keeps the calendars it synced (an earlier choice made through the API's <code>calendar_ids</code> included); to choose others, connect it again through the API with <code>calendar_ids</code>.</p>
            : <p class="small">Connected from this page, an account syncs the calendars Rollcall picks by default; to choose others, connect it again through the API with <code>calendar_ids</code>.</p>)}
        </>
      )}
    </div>
  );
}
