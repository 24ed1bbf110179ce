// An action that takes away the control that had focus (a cancelled bot's buttons, a disconnected
// calendar's card) sends focus to the notice that says what happened, once the page shows it.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { isFocusLost } from './components/confirm-button.tsx';

/** `focusNoticeSoon()` after such an action; the notice takes `noticeRef`. `shown` is what the page renders from. */
export function useNoticeFocus(shown: unknown) {
  const noticeRef = useRef<HTMLParagraphElement>(null);
  const [isToFocus, setIsToFocus] = useState(false);
  useLayoutEffect(() => {
    if (!isToFocus) return;
    setIsToFocus(false);
    if (isFocusLost()) noticeRef.current?.focus();
  }, [isToFocus, shown]);
  return { noticeRef, focusNoticeSoon: () => setIsToFocus(true) };
}
