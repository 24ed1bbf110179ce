// Cursor paging: the API hands out the cursor of the next page; going back means remembering the
// cursors that led here.
import { useState } from 'preact/hooks';

export interface PagerState {
  cursor: string | undefined;
  pageNumber: number;
  next: (cursor: string) => void;
  previous: () => void;
  reset: () => void;
}

export function usePager(): PagerState {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  return {
    cursor: stack.at(-1),
    pageNumber: stack.length,
    next: (cursor) => setStack((s) => [...s, cursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack([undefined]),
  };
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
