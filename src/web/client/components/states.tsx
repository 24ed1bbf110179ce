// Loading, failure and empty states, the same on every page.
import type { ComponentChildren, Ref } from 'preact';

export function Loading({ what }: { what: string }) {
  return <p class="state state-loading" role="status">Loading {what}…</p>;
}

export function ErrorState({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  return (
    <div class="state state-error" role="alert">
      <p><strong>Something went wrong.</strong> {error.message}</p>
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
      {notice?.text ?? ''}
    </p>
  );
}
