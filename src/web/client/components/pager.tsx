// Cursor paging: the API hands out the cursor of the next page; going back means remembering the
// cursors that led here (kept in the address by the pages that list bots and events, see
// url-state.ts). Moving to another page takes the user to the top of the list: its heading (or
// the table) is scrolled into view and takes focus, where the button pressed was at the bottom.
// While a page is read, the pager waits: the list shown is still the page before, and a second
// Next page pressed on it would ask for that same next page again under a new number.
import type { RefObject } from 'preact';
import { useState } from 'preact/hooks';

export interface PagerState {
  cursor: string | undefined;
  pageNumber: number;
  next: (cursor: string) => void;
  previous: () => void;
  reset: () => void;
}

/** Paging from the cursors that led to the page shown (none on page 1). */
export function pagerOf(cursors: readonly string[], setCursors: (cursors: string[]) => void): PagerState {
  return {
    cursor: cursors.at(-1),
    pageNumber: cursors.length + 1,
    next: (cursor) => setCursors([...cursors, cursor]),
    previous: () => setCursors(cursors.slice(0, -1)),
    reset: () => setCursors([]),
  };
}

/** Paging kept by the component alone. */
export function usePager(): PagerState {
  const [cursors, setCursors] = useState<string[]>([]);
  return pagerOf(cursors, setCursors);
}

/** To the top of the list: in view, and focused for screen readers (the list that follows is the new page). */
function moveTo(top: RefObject<HTMLElement | null> | undefined): void {
  const element = top?.current;
  if (!element) return;
  element.tabIndex = -1;
  element.scrollIntoView({ block: 'start' });
  element.focus({ preventScroll: true });
}

/** `isBusy`: the list shown is not yet the page asked for (it is being read); the buttons say so and do nothing. */
export function Pager({ pager, nextCursor, label, top, isBusy = false }: { pager: PagerState; nextCursor: string | null; label: string; top?: RefObject<HTMLElement | null>; isBusy?: boolean }) {
  if (pager.pageNumber === 1 && nextCursor === null) return null;
  // Busy, the buttons say so without being disabled: a disabled button would drop the focus it has.
  const busy = isBusy ? 'true' : undefined;
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" class="button" disabled={pager.pageNumber === 1} aria-disabled={busy} onClick={() => {
        if (isBusy) return;
        pager.previous();
        moveTo(top);
      }}>Previous page</button>
      <span class="pager-position">Page {pager.pageNumber}</span>
      <button type="button" class="button" disabled={nextCursor === null} aria-disabled={busy} onClick={() => {
        if (isBusy || nextCursor === null) return;
        pager.next(nextCursor);
        moveTo(top);
      }}>Next page</button>
    </nav>
  );
}
