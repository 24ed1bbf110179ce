import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MinHeap } from './min-heap.ts';

test('pops in ascending order whatever the insertion order', () => {
  fc.assert(fc.property(fc.array(fc.integer()), (values) => {
    const heap = new MinHeap<number>((a, b) => a < b);
    for (const v of values) heap.push(v);
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop()!);
    assert.deepEqual(out, [...values].sort((a, b) => a - b));
  }));
});

test('an empty heap has nothing to peek or pop', () => {
  const heap = new MinHeap<number>((a, b) => a < b);
  assert.equal(heap.peek(), undefined);
  assert.equal(heap.pop(), undefined);
});
