// A destructive action asks once more, in place, instead of a browser dialog: keyboard and
// screen reader users get ordinary buttons, and focus moves to the question. Keep (or Escape)
// puts focus back on the button that asked, so a keyboard user goes on from where they were.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

export function ConfirmButton(props: { label: string; question: string; confirmLabel: string; onConfirm: () => Promise<void> | void; disabled?: boolean; tone?: 'danger' | 'normal'; ariaLabel?: string }) {
  const [isAsking, setIsAsking] = useState(false);
  const [isBusy, setIsBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const triggerRef = useRef<HTMLButtonElement>(null);
  /** Set when the question closes: whether focus goes back to the button (always after Keep; after the action only if focus was lost with the question). */
  const returnFocus = useRef<'always' | 'if-lost' | null>(null);
  // Before the browser paints, so that focus never rests on the page between the two states.
  useLayoutEffect(() => {
    if (isAsking) {
      confirmRef.current?.focus();
      return;
    }
    const when = returnFocus.current;
    returnFocus.current = null;
    const isLost = document.activeElement === null || document.activeElement === document.body;
    if (when === 'always' || (when === 'if-lost' && isLost)) triggerRef.current?.focus();
  }, [isAsking]);
  const keep = () => {
    returnFocus.current = 'always';
    setIsAsking(false);
  };
  if (!isAsking) {
    return <button type="button" ref={triggerRef} class={`button ${props.tone === 'danger' ? 'button-danger' : ''}`} disabled={props.disabled} aria-label={props.ariaLabel} onClick={() => setIsAsking(true)}>{props.label}</button>;
  }
  return (
    <span
      class="confirm"
      role="group"
      aria-label={props.question}
      onKeyDown={(event) => {
        if (event.key !== 'Escape' || isBusy) return;
        event.preventDefault();
        event.stopPropagation();
        keep();
      }}
    >
      <span class="confirm-question">{props.question}</span>
      <button
        type="button"
        ref={confirmRef}
        class="button button-danger"
        disabled={isBusy}
        onClick={async () => {
          setIsBusy(true);
          try {
            await props.onConfirm();
          } finally {
            setIsBusy(false);
            returnFocus.current = 'if-lost';
            setIsAsking(false);
          }
        }}
      >
        {props.confirmLabel}
      </button>
      <button type="button" class="button" onClick={keep}>Keep</button>
    </span>
  );
}
