// The main navigation on a narrow screen scrolls sideways: it says so with a fade at each edge
// beyond which more items lie (styles.css, on the nav's data-more-before / data-more-after), and
// keeps the current page's item in view, clear of the fades.
import { useEffect, useState } from 'preact/hooks';
import type { RefObject } from 'preact';

/** Where a scrolling list stands: more items before what it shows, after it, or both. */
export interface ScrollEdges {
  before: boolean;
  after: boolean;
}

/** Whether more lies before and after a list scrolled `scrollLeft` of `scrollWidth`, `width` of it shown (a pixel of rounding is nothing). */
export function scrollEdges({ scrollLeft, scrollWidth, width }: { scrollLeft: number; scrollWidth: number; width: number }): ScrollEdges {
  return { before: scrollLeft > 1, after: scrollLeft + width < scrollWidth - 1 };
}

/**
 * The scroll position that shows an item (its left and right in the list's content) whole, clear
 * of the fades of `margin` at each edge, moving as little as it can; unchanged when it shows
 * already. An item wider than the room shows its start.
 */
export function scrollLeftShowing(item: { left: number; right: number }, view: { scrollLeft: number; scrollWidth: number; width: number }, margin: number): number {
  const max = Math.max(0, view.scrollWidth - view.width);
  const clamp = (x: number) => Math.min(max, Math.max(0, x));
  // At either end there is no fade on that side: the room reaches the edge.
  const roomLeft = (x: number) => x + (x > 0 ? margin : 0);
  const roomRight = (x: number) => x + view.width - (x < max ? margin : 0);
  let target = view.scrollLeft;
  if (item.right > roomRight(target)) target = clamp(item.right - view.width + margin);
  if (item.right > roomRight(target)) target = max;
  if (item.left < roomLeft(target)) target = clamp(item.left - margin);
  return target;
}

/**
 * Follows where `list` is scrolled (as it scrolls, and as its size or content changes), and brings
 * the item matching `currentSelector` into view whenever `current` (what marks it) changes.
 */
export function useNavScroll(list: RefObject<HTMLElement | null>, fade: () => number, current: unknown, currentSelector: string): ScrollEdges {
  const [edges, setEdges] = useState<ScrollEdges>({ before: false, after: false });
  useEffect(() => {
    const element = list.current;
    if (element === null) return;
    const update = () => {
      const next = scrollEdges({ scrollLeft: element.scrollLeft, scrollWidth: element.scrollWidth, width: element.clientWidth });
      setEdges((was) => was.before === next.before && was.after === next.after ? was : next);
    };
    update();
    element.addEventListener('scroll', update, { passive: true });
    const observer = new ResizeObserver(update);
    observer.observe(element);
    return () => {
      element.removeEventListener('scroll', update);
      observer.disconnect();
    };
  }, [list]);
  useEffect(() => {
    const element = list.current;
    const item = element?.querySelector(currentSelector);
    if (!element || !item) return;
    // Only the list scrolls sideways: scrollIntoView would also scroll the page to the top.
    const listBox = element.getBoundingClientRect();
    const itemBox = item.getBoundingClientRect();
    const left = itemBox.left - listBox.left + element.scrollLeft;
    element.scrollLeft = scrollLeftShowing({ left, right: left + itemBox.width }, { scrollLeft: element.scrollLeft, scrollWidth: element.scrollWidth, width: element.clientWidth }, fade());
  }, [list, current, currentSelector]);
  return edges;
}
