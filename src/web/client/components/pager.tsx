// Cursor paging: the API hands out the cursor of the next page; going back means remembering the
// cursors that led here (kept in the address by the pages that list bots and events, see
// url-state.ts).
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

export function Pager({ pager, nextCursor, label }: { pager: PagerState; nextCursor: string | null; label: string }) {
  if (pager.pageNumber === 1 && nextCursor === null) return null;
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" class="button" disabled={pager.pageNumber === 1} onClick={pager.previous}>Previous page</button>
      <span class="pager-position">Page {pager.pageNumber}</span>
      <button type="button" class="button" disabled={nextCursor === null} onClick={() => nextCursor !== null && pager.next(nextCursor)}>Next page</button>
    </nav>
  );
}
