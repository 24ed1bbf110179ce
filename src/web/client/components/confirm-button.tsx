// A destructive action asks once more, in place, instead of a browser dialog: keyboard and
// screen reader users get ordinary buttons, and focus moves to the question.
import { useEffect, useRef, useState } from 'preact/hooks';

export function ConfirmButton(props: { label: string; question: string; confirmLabel: string; onConfirm: () => Promise<void> | void; disabled?: boolean; tone?: 'danger' | 'normal'; ariaLabel?: string }) {
  const [isAsking, setIsAsking] = useState(false);
  const [isBusy, setIsBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (isAsking) confirmRef.current?.focus();
  }, [isAsking]);
  if (!isAsking) {
    return <button type="button" class={`button ${props.tone === 'danger' ? 'button-danger' : ''}`} disabled={props.disabled} aria-label={props.ariaLabel} onClick={() => setIsAsking(true)}>{props.label}</button>;
  }
  return (
    <span class="confirm" role="group" aria-label={props.question}>
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
            setIsAsking(false);
          }
        }}
      >
        {props.confirmLabel}
      </button>
      <button type="button" class="button" onClick={() => setIsAsking(false)}>Keep</button>
    </span>
  );
}
