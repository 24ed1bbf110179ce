// Loading, failure and empty states, the same on every page. Texts from the server name their
// instants in UTC ("after the meeting ends (2026-12-05T07:30:00.000Z)"): they are said in the
// browser's zone, like every other time on the page.
import type { ComponentChildren, Ref } from 'preact';
import { formatClock, withLocalTimes } from '../format.ts';

export function Loading({ what }: { what: string }) {
  return <p class="state state-loading" role="status">Loading {what}…</p>;
}

export function ErrorState({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  return (
    <div class="state state-error" role="alert">
      <p><strong>Something went wrong.</strong> {withLocalTimes(error.message)}</p>
      {onRetry && <button type="button" class="button" onClick={onRetry}>Try again</button>}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="state state-empty">
      <p><strong>{title}</strong></p>
      {children}
    </div>
  );
}

/**
 * A short-lived message after an action, read out by screen readers. `focusRef` lets a page put
 * focus on it when the action took away what had focus (a disconnected calendar's card).
 */
export function Notice({ notice, focusRef }: { notice: { kind: 'ok' | 'error'; text: string } | null; focusRef?: Ref<HTMLParagraphElement> }) {
  return (
    <p ref={focusRef} tabIndex={focusRef ? -1 : undefined} class={`notice ${notice ? `notice-${notice.kind}` : 'notice-none'}`} role={notice?.kind === 'error' ? 'alert' : 'status'}>
      {notice ? withLocalTimes(notice.text) : ''}
    </p>
  );
}

/**
 * Says that the page shows data read earlier because reading it again failed (the server away for
 * a moment); nothing while it is up to date. The page's rows stay: they are still the best it has,
 * and the next read that succeeds takes this away. Always in the page, so that screen readers
 * announce it when it fills.
 */
export function StaleNotice({ since }: { since: number | null }) {
  return (
    <p class={`notice ${since === null ? 'notice-none' : 'notice-info'}`} role="status" data-testid="stale-notice">
      {since === null ? '' : `Could not refresh; showing data from ${formatClock(new Date(since).toISOString())}.`}
    </p>
  );
}
