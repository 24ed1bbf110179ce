import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrivalsFirst, readingOrder } from './calendar-read-order.ts';

const calendar = (id: string, read_failures = 0) => ({ id, read_failures });
const ids = (list: { id: string }[]) => list.map((c) => c.id);

test('calendars that failed on their own come last; the others start one further along after each failed sync', () => {
  const list = [calendar('a'), calendar('x', 3), calendar('b'), calendar('c'), calendar('y', 1)];
  assert.deepEqual(ids(readingOrder(list, 0)), ['a', 'b', 'c', 'x', 'y']);
  assert.deepEqual(ids(readingOrder(list, 1)), ['b', 'c', 'a', 'x', 'y']);
  assert.deepEqual(ids(readingOrder(list, 2)), ['c', 'a', 'b', 'x', 'y']);
  // Once a round (three others, so every fourth failed sync), one that failed on its own goes first, each in turn.
  assert.deepEqual(ids(readingOrder(list, 3)), ['x', 'a', 'b', 'c', 'y']);
  assert.deepEqual(ids(readingOrder(list, 7)), ['y', 'a', 'b', 'c', 'x']);
  assert.deepEqual(ids(readingOrder([calendar('x', 1)], 7)), ['x']);
  assert.deepEqual(ids(readingOrder([calendar('x', 1), calendar('y', 2)], 1)), ['y', 'x']);
  assert.deepEqual(readingOrder([], 3), []);
});

test('whichever calendars keep failing and whichever failed before, the one that works comes first within the bound', () => {
  const names = ['a', 'b', 'c', 'd'];
  // Every mix of calendars counted as failing on their own, and each calendar as the only one that works.
  for (let mask = 0; mask < 1 << names.length; mask++) {
    const list = names.map((id, i) => calendar(id, (mask >> i) & 1));
    const own = list.filter((c) => c.read_failures > 0).length;
    const bound = (names.length - own + 1) * Math.max(1, own);
    for (const working of names) {
      const first = Array.from({ length: bound }, (_, failedSyncs) => readingOrder(list, failedSyncs)[0]!.id);
      assert.ok(first.includes(working), `mask ${mask}, ${working} works: first were ${first.join(' ')}`);
    }
  }
});

test('calendars a sync left unread at a limit come first, those left longest first; the others keep their order', () => {
  const left = (id: string, at: number, read_failures = 0) => ({ id, read_failures, left_unread_at: at });
  const list = [calendar('a'), left('b', 200), calendar('x', 2), left('c', 100), left('y', 200, 1), { ...calendar('d'), left_unread_at: null }];
  assert.deepEqual(ids(readingOrder(list, 0)), ['c', 'b', 'y', 'a', 'd', 'x']);
  // Among those left at the same time, the order they would otherwise have (failed ones after), rotation included.
  assert.deepEqual(ids(readingOrder(list, 1)), ['c', 'b', 'y', 'd', 'a', 'x']);
});

test('a sync that always meets a limit at the first calendar it reads, leaving the rest: every calendar is read within as many syncs as there are', () => {
  let list: { id: string; read_failures: number; left_unread_at: number | null }[] = ['a', 'b', 'c', 'd'].map((id) => ({ id, read_failures: 0, left_unread_at: null }));
  const firsts: string[] = [];
  for (let sync = 1; sync <= 4; sync++) {
    const [first] = readingOrder(list, 0);
    firsts.push(first!.id);
    // The first read meets the limit: it loses its mark, the others keep theirs or are marked now.
    list = list.map((c) => (c.id === first!.id ? { ...c, left_unread_at: null } : { ...c, left_unread_at: c.left_unread_at ?? sync }));
  }
  assert.deepEqual(firsts, ['a', 'b', 'c', 'd']);
});

test('syncs that ask for one or two calendars each, all of whose marks go whatever came of it, the rest marked: each calendar left unread is asked for first within as many syncs as there are calendars', () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  for (let seed = 0; seed < 200; seed++) {
    let list: { id: string; read_failures: number; left_unread_at: number | null }[] = names.map((id, i) => ({ id, read_failures: (seed >> i) & 1, left_unread_at: null }));
    /** The sync at which each marked calendar was left unread (its mark standing since). */
    const leftSince = new Map<string, number>();
    for (let sync = 1; sync <= 30; sync++) {
      const order = readingOrder(list, (seed + sync) % 7);
      // Two server errors stop a sync (two asked), a limit ends it (one asked): as the seed goes.
      const asked = new Set(order.slice(0, ((seed * 31 + sync) % 3 === 0) ? 2 : 1).map((c) => c.id));
      for (const id of asked) {
        const since = leftSince.get(id);
        if (since !== undefined) assert.ok(sync - since <= names.length, `${id} left at sync ${since}, asked for at ${sync}`);
        leftSince.delete(id);
      }
      for (const [id, since] of leftSince) assert.ok(sync - since < names.length, `${id} left at sync ${since}, still not asked for at ${sync}`);
      // A sync that met a limit marks those it did not ask for (a later mark than any standing).
      const isLimit = (seed + sync) % 2 === 0;
      list = list.map((c) => (asked.has(c.id) ? { ...c, left_unread_at: null } : isLimit && c.left_unread_at === null ? { ...c, left_unread_at: sync } : c));
      for (const c of list) if (c.left_unread_at !== null && !leftSince.has(c.id)) leftSince.set(c.id, sync);
    }
  }
});

test('a calendar a meeting arrives in is written before the calendar it leaves; the rest keep their order', () => {
  const set = (...keys: string[]) => new Set(keys);
  // The meeting at t1 leaves calendar 0 for calendar 2; calendar 1 has changes of its own.
  assert.deepEqual(arrivalsFirst([{ leaving: set('t1'), arriving: set() }, { leaving: set('t9'), arriving: set('t8') }, { leaving: set(), arriving: set('t1') }]), [1, 2, 0]);
  // One meeting moved from 0 to 1 and another from 1 to 2: 2, then 1, then 0.
  assert.deepEqual(arrivalsFirst([{ leaving: set('x'), arriving: set() }, { leaving: set('y'), arriving: set('x') }, { leaving: set(), arriving: set('y') }]), [2, 1, 0]);
  // A meeting deleted in one calendar and another added in a second: nothing arrives that leaves elsewhere.
  assert.deepEqual(arrivalsFirst([{ leaving: set('t1'), arriving: set() }, { leaving: set(), arriving: set('t2') }]), [0, 1]);
  // Leaving and arriving in the same calendar (a delete and a re-create) is no move between calendars.
  assert.deepEqual(arrivalsFirst([{ leaving: set('t1'), arriving: set('t1') }, { leaving: set(), arriving: set() }]), [0, 1]);
  // Moves both ways in one sync: each is a destination, the order read stays.
  assert.deepEqual(arrivalsFirst([{ leaving: set('a'), arriving: set('b') }, { leaving: set('b'), arriving: set('a') }]), [0, 1]);
  assert.deepEqual(arrivalsFirst([]), []);
});
