// A destructive action asks once more, in place, instead of a browser dialog: keyboard and
// screen reader users get ordinary buttons, and focus moves to the question. Keep (or Escape)
// puts focus back on the button that asked, so a keyboard user goes on from where they were.
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

export function ConfirmButton(props: { label: string; question: string; confirmLabel: string; onConfirm: () => Promise<void> | void; disabled?: boolean; tone?: 'danger' | 'normal'; ariaLabel?: string }) {
  const [isAsking, setIsAsking] = useState(false);
  const triggerRef = useRef<HTMLButtonElement>(null);
  /** Set when the question closes: whether focus goes back to the button (always after Keep; after the action only if focus was lost with the question). */
  const returnFocus = useRef<'always' | 'if-lost' | null>(null);
  // Before the browser paints, so that focus never rests on the page between the two states.
  useLayoutEffect(() => {
    if (isAsking) return;
    const when = returnFocus.current;
    returnFocus.current = null;
    if (when === 'always' || (when === 'if-lost' && isFocusLost())) triggerRef.current?.focus();
  }, [isAsking]);
  if (!isAsking) {
    return <button type="button" ref={triggerRef} class={`button ${props.tone === 'danger' ? 'button-danger' : ''}`} disabled={props.disabled} aria-label={props.ariaLabel} onClick={() => setIsAsking(true)}>{props.label}</button>;
  }
  return (
    <ConfirmQuestion
      question={props.question}
      confirmLabel={props.confirmLabel}
      onConfirm={async () => {
        try {
          await props.onConfirm();
        } finally {
          returnFocus.current = 'if-lost';
          setIsAsking(false);
        }
      }}
      onKeep={() => {
        returnFocus.current = 'always';
        setIsAsking(false);
      }}
    />
  );
}

/** Whether focus went with an element that is gone (it rests on the page itself). */
export function isFocusLost(): boolean {
  return document.activeElement === null || document.activeElement === document.body;
}

/**
 * The question itself, focused on its confirming button when it appears; `children` say more
 * (what the action would touch). Whoever shows it puts focus back when it goes.
 */
export function ConfirmQuestion(props: { question: string; confirmLabel: string; onConfirm: () => Promise<void> | void; onKeep: () => void; keepLabel?: string; children?: ComponentChildren }) {
  const [isBusy, setIsBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => {
    confirmRef.current?.focus();
  }, []);
  const Wrapper = props.children === undefined ? 'span' : 'div';
  return (
    <Wrapper
      class={props.children === undefined ? 'confirm' : 'confirm confirm-block'}
      role="group"
      aria-label={props.question}
      onKeyDown={(event) => {
        if (event.key !== 'Escape' || isBusy) return;
        event.preventDefault();
        event.stopPropagation();
        props.onKeep();
      }}
    >
      <span class="confirm-question">{props.question}</span>
      {props.children}
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
          }
        }}
      >
        {props.confirmLabel}
      </button>
      <button type="button" class="button" disabled={isBusy} onClick={props.onKeep}>{props.keepLabel ?? 'Keep'}</button>
    </Wrapper>
  );
}
