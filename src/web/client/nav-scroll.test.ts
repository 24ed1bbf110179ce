// The navigation's sideways scroll: which edges have more beyond them, and where to scroll so the
// current page's item shows whole, clear of the fades.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrollEdges, scrollLeftShowing } from './nav-scroll.ts';

test('more lies beyond an edge only while the list is scrolled short of it', () => {
  assert.deepEqual(scrollEdges({ scrollLeft: 0, scrollWidth: 400, width: 320 }), { before: false, after: true });
  assert.deepEqual(scrollEdges({ scrollLeft: 40, scrollWidth: 400, width: 320 }), { before: true, after: true });
  assert.deepEqual(scrollEdges({ scrollLeft: 80, scrollWidth: 400, width: 320 }), { before: true, after: false });
  assert.deepEqual(scrollEdges({ scrollLeft: 79.5, scrollWidth: 400, width: 320 }), { before: true, after: false }, 'a fraction of a pixel is nothing');
  assert.deepEqual(scrollEdges({ scrollLeft: 0, scrollWidth: 300, width: 320 }), { before: false, after: false }, 'all of it shows');
});

test('the current item is scrolled into view, clear of the fades, moving as little as it can', () => {
  const view = { scrollLeft: 0, scrollWidth: 400, width: 320 };
  // Last item (310..400): scrolled to the end, where no fade covers it.
  assert.equal(scrollLeftShowing({ left: 310, right: 400 }, view, 36), 80);
  // An item half under the right fade (220..300 under the fade from 284): moved just clear of it.
  assert.equal(scrollLeftShowing({ left: 220, right: 300 }, view, 36), 16);
  // One that shows already: nothing moves.
  assert.equal(scrollLeftShowing({ left: 0, right: 80 }, view, 36), 0);
  assert.equal(scrollLeftShowing({ left: 100, right: 200 }, { ...view, scrollLeft: 40 }, 36), 40);
  // The first item, from a list scrolled to its end: back to the start.
  assert.equal(scrollLeftShowing({ left: 0, right: 80 }, { ...view, scrollLeft: 80 }, 36), 0);
  // One under the left fade: moved just clear of it.
  assert.equal(scrollLeftShowing({ left: 90, right: 170 }, { ...view, scrollLeft: 80 }, 36), 54);
  // A list that does not scroll stays put.
  assert.equal(scrollLeftShowing({ left: 200, right: 280 }, { scrollLeft: 0, scrollWidth: 300, width: 320 }, 36), 0);
  // An item wider than the room shows its start.
  assert.equal(scrollLeftShowing({ left: 100, right: 500 }, { scrollLeft: 0, scrollWidth: 800, width: 320 }, 36), 64);
});
