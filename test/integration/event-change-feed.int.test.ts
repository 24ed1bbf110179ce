// GET /api/v1/calendar/events/changes: events in the order of their latest change, from a cursor.
// Every write path reaches it (the API, a calendar sync, a disconnect), it pages without losing or
// repeating a change, it is scoped to its user, and on PostgreSQL a change made by a transaction
// that commits after a later one is not skipped by a client that read in between.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ManualClock } from '../../src/lib/clock.ts';
import { startTestRollcall, TEST_ENGINE, type TestRollcall } from '../support/harness.ts';
import { FakeIcsServer } from '../support/fake-ics.ts';
import { withSchemaBefore } from '../support/migration-fixture.ts';
import { migrate } from '../../src/db/migrator.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';
import { FEED_START, listEventChanges } from '../../src/store/event-change-store.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const EVENTS = '/api/v1/calendar/events';
const KEY = Buffer.alloc(32, 7).toString('base64');

describe('event change feed', () => {
  let rc: TestRollcall;
  let ics: FakeIcsServer;
  const clock = new ManualClock(NOW);

  before(async () => {
    ics = new FakeIcsServer();
    await ics.start();
    rc = await startTestRollcall({ clock, settings: { OUTBOUND_ALLOWED_HOSTS: '127.0.0.1', CREDENTIALS_ENCRYPTION_KEY: KEY, CALENDAR_PUSH: 'off' } });
  });
  after(async () => {
    await rc.close();
    await ics.stop();
  });

  async function create(auth: string, title: string, startMs = NOW + DAY): Promise<string> {
    const res = await rc.request('POST', EVENTS, { auth, body: { title, start_time: new Date(startMs).toISOString(), end_time: new Date(startMs + HOUR).toISOString(), meeting_url: 'https://zoom.us/j/123456789' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }

  async function page(auth: string, cursor: string | null, limit?: number): Promise<{ results: any[]; next_cursor: string; has_more: boolean }> {
    const query = new URLSearchParams();
    if (cursor !== null) query.set('cursor', cursor);
    if (limit !== undefined) query.set('limit', String(limit));
    const res = await rc.request('GET', `${EVENTS}/changes?${query}`, { auth });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(typeof res.body.next_cursor, 'string');
    return res.body;
  }

  /**
   * Pages from `cursor` until the feed has no more now. On PostgreSQL a change shows once every
   * older transaction in the cluster has ended; other test files share the server, so a change
   * that should be there is waited for (`until`), for a few seconds at most.
   */
  async function drain(auth: string, cursor: string | null, until: (seen: any[]) => boolean = () => true, limit?: number) {
    const deadline = Date.now() + 10_000;
    const seen: any[] = [];
    const pages: number[] = [];
    let at = cursor;
    for (;;) {
      const answer = await page(auth, at, limit);
      seen.push(...answer.results);
      pages.push(answer.results.length);
      at = answer.next_cursor;
      if (answer.has_more) continue;
      if (until(seen) || Date.now() > deadline) return { seen, cursor: at, pages };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  test('creations, edits and deletions through the API come in the order of each event\'s latest change, deleted ones included', async () => {
    const { auth } = await rc.newUser();
    const a = await create(auth, 'A');
    const b = await create(auth, 'B');
    const c = await create(auth, 'C');
    assert.equal((await rc.request('PATCH', `${EVENTS}/${a}`, { auth, body: { title: 'A, renamed' } })).status, 200);
    assert.equal((await rc.request('DELETE', `${EVENTS}/${b}`, { auth })).status, 200);
    const first = await drain(auth, null, (seen) => seen.length >= 3);
    assert.deepEqual(first.seen.map((e) => [e.id, e.title, e.is_deleted]), [[c, 'C', false], [a, 'A, renamed', false], [b, 'B', true]]);
    // Nothing new: an empty page, and the same place to go on from.
    const idle = await page(auth, first.cursor);
    assert.deepEqual(idle.results, []);
    assert.equal(idle.has_more, false);
    // A later change is there from the cursor held, and only it.
    assert.equal((await rc.request('PATCH', `${EVENTS}/${c}`, { auth, body: { title: 'C, moved', start_time: new Date(NOW + 2 * DAY).toISOString(), end_time: new Date(NOW + 2 * DAY + HOUR).toISOString() } })).status, 200);
    const later = await drain(auth, idle.next_cursor, (seen) => seen.length >= 1);
    assert.deepEqual(later.seen.map((e) => [e.id, e.title, e.start_time]), [[c, 'C, moved', new Date(NOW + 2 * DAY).toISOString()]]);
  });

  test('pages of a given size hold every change once; has_more says whether to ask again at once', async () => {
    const { auth } = await rc.newUser();
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push(await create(auth, `E${i}`));
    // On PostgreSQL a transaction elsewhere in the cluster can hold all seven back for a while
    // (empty pages until it ends); once the feed shows them, paging from the start is exact.
    await drain(auth, null, (seen) => seen.length >= 7);
    const all = await drain(auth, null, () => true, 3);
    assert.deepEqual(all.seen.map((e) => e.id), ids);
    assert.deepEqual(all.pages, [3, 3, 1]);
  });

  test('a calendar sync\'s creations, changes and cancellations are in the feed, a series as its own row; a disconnect marks them deleted', async () => {
    const { auth } = await rc.newUser();
    const url = ics.createFeed();
    const start = NOW + DAY;
    ics.edit(url, (events) => events.push(
      { uid: 'single@feed', summary: 'Single', startMs: start, endMs: start + HOUR, location: 'https://zoom.us/j/111111111' },
      { uid: 'series@feed', summary: 'Daily', startMs: start, endMs: start + HOUR, location: 'https://zoom.us/j/222222222', timeZone: 'Europe/Berlin', rrule: 'FREQ=DAILY;COUNT=5' },
    ));
    const connected = await rc.request('POST', '/api/v1/calendar/create_ics_calendar', { auth, body: { ics_url: url } });
    assert.equal(connected.status, 200, JSON.stringify(connected.body));
    const synced = await drain(auth, null, (seen) => seen.length >= 2);
    assert.deepEqual(synced.seen.map((e) => e.title).sort(), ['Daily', 'Single']);
    const series = synced.seen.find((e) => e.title === 'Daily');
    assert.ok(Array.isArray(series.recurrence) && series.recurrence.some((line: string) => line.startsWith('RRULE:')), JSON.stringify(series));
    // The single event moves, the series is cancelled at the source.
    ics.edit(url, (events) => {
      Object.assign(events[0]!, { startMs: start + HOUR, endMs: start + 2 * HOUR });
      events.splice(1, 1);
    });
    clock.advance(HOUR);
    assert.equal((await rc.request('POST', `/api/v1/calendar/connections/${connected.body.calendar_id}/sync`, { auth })).status, 200);
    const changed = await drain(auth, synced.cursor, (seen) => seen.length >= 2);
    const byTitle = new Map(changed.seen.map((e) => [e.title, e]));
    assert.equal(byTitle.get('Single').start_time, new Date(start + HOUR).toISOString());
    assert.equal(byTitle.get('Daily').is_deleted, true);
    const disconnected = await rc.request('DELETE', `/api/v1/calendar/connections/${connected.body.calendar_id}`, { auth });
    assert.equal(disconnected.status, 200, JSON.stringify(disconnected.body));
    const gone = await drain(auth, changed.cursor, (seen) => seen.some((e) => e.title === 'Single'));
    assert.deepEqual(gone.seen.map((e) => [e.title, e.is_deleted]), [['Single', true]]);
  });

  test('each user reads only their own changes; a cursor or limit the API did not issue is a 400 naming the field', async () => {
    const alice = await rc.newUser();
    const bob = await rc.newUser();
    await create(alice.auth, 'Alice only');
    const bobs = await drain(bob.auth, null);
    assert.deepEqual(bobs.seen, []);
    for (const [query, field, code] of [['cursor=bm90LW91cnM', 'cursor', 'invalid_cursor'], [`cursor=${Buffer.from(JSON.stringify({ x: 'x', q: 1, i: '' })).toString('base64url')}`, 'cursor', 'invalid_cursor'], [`cursor=${Buffer.from(JSON.stringify({ x: '0', q: 1, i: 'evt_\u0000' })).toString('base64url')}`, 'cursor', 'invalid_cursor'], ['limit=0', 'limit', null], ['limit=101', 'limit', null]] as const) {
      const res = await rc.request('GET', `${EVENTS}/changes?${query}`, { auth: alice.auth });
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      if (code) assert.equal(res.body.code, code);
      assert.match(JSON.stringify(res.body), new RegExp(field));
    }
  });

  test('a change committed after a later one is not skipped by a client that read in between (PostgreSQL: transactions commit out of order)', async (t) => {
    if (TEST_ENGINE !== 'postgres') return t.skip('SQLite writers take turns: changes commit in the order they are numbered');
    const { auth, userId } = await rc.newUser();
    const early = await create(auth, 'Early');
    const start = await drain(auth, null, (seen) => seen.length >= 1);
    // A transaction changes "Early" and stays open while another event is created and committed.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const isWritten = new Promise<void>((resolve) => (written = resolve));
    const slow = rc.database.db.transaction().execute(async (trx) => {
      await trx.updateTable('events').set({ title: 'Early, renamed', updated_at: clock.now() }).where('id', '=', early).where('user_id', '=', userId).execute();
      written();
      await held;
    });
    await isWritten;
    let late: string;
    let meanwhile: Awaited<ReturnType<typeof page>>;
    try {
      late = await create(auth, 'Late');
      // Meanwhile the feed holds "Late" back: serving it would move the client's cursor past the
      // change still to commit.
      meanwhile = await page(auth, start.cursor);
    } finally {
      release();
      await slow;
    }
    const after = await drain(auth, meanwhile!.next_cursor, (seen) => seen.length >= 2);
    assert.deepEqual(after.seen.map((e) => [e.id, e.title]), [[early, 'Early, renamed'], [late!, 'Late']], 'both changes reach the client, the one committed last included');
    assert.deepEqual(meanwhile!.results.map((e) => e.id), [], 'nothing served while an older transaction is open');
  });
});

describe('event change feed after the database moved to another server (PostgreSQL)', () => {
  test('rows restored with the old server\'s transaction ids are numbered again at start-up, and a cursor of the old server is refused', async (t) => {
    if (TEST_ENGINE !== 'postgres') return t.skip('SQLite numbers changes itself; a copied file keeps working');
    const clock = new ManualClock(NOW);
    const rc = await startTestRollcall({ clock });
    try {
      const { auth, userId } = await rc.newUser();
      const ids = [];
      for (const title of ['One', 'Two']) {
        const res = await rc.request('POST', EVENTS, { auth, body: { title, start_time: new Date(NOW + DAY).toISOString(), end_time: new Date(NOW + DAY + HOUR).toISOString() } });
        ids.push(res.body.id as string);
      }
      const cursor = async (after: string | null) => {
        for (const deadline = Date.now() + 10_000; ;) {
          const res = await rc.request('GET', `${EVENTS}/changes${after ? `?cursor=${after}` : ''}`, { auth });
          if (res.status !== 200 || res.body.results.length > 0 || Date.now() > deadline) return res;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      const held = (await cursor(null)).body.next_cursor as string;
      // What a restore on another server looks like: the rows keep ids of the old server's
      // transactions, far ahead of this one's, and the recorded server is not this one.
      await sql`ALTER TABLE events DISABLE TRIGGER events_mark_change`.execute(rc.database.db);
      await sql`UPDATE events SET change_xid = '900000000000'::xid8 WHERE user_id = ${userId}`.execute(rc.database.db);
      await sql`ALTER TABLE events ENABLE TRIGGER events_mark_change`.execute(rc.database.db);
      await sql`UPDATE event_feed_server SET system_identifier = '42'`.execute(rc.database.db);
      const stuck = await rc.request('GET', `${EVENTS}/changes`, { auth });
      assert.deepEqual(stuck.body.results, [], 'held back behind ids this server has not reached');
      // The next start-up (migrate runs at every start) numbers them again.
      await migrate(rc.database.db, rc.database.engine, MIGRATIONS);
      const fresh = await cursor(null);
      assert.deepEqual(fresh.body.results.map((e: { id: string }) => e.id).sort(), [...ids].sort());
      // A cursor issued under another server identifier is refused, naming the field.
      const moved = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(held, 'base64url').toString('utf8')), s: '42' })).toString('base64url');
      const refused = await rc.request('GET', `${EVENTS}/changes?cursor=${moved}`, { auth });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.equal(refused.body.code, 'invalid_cursor');
      assert.match(refused.body.message, /moved to another server/);
      // A cursor ahead of this server's transaction ids (a backup restored to an earlier point).
      const ahead = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(fresh.body.next_cursor, 'base64url').toString('utf8')), x: '800000000000' })).toString('base64url');
      const refusedAhead = await rc.request('GET', `${EVENTS}/changes?cursor=${ahead}`, { auth });
      assert.equal(refusedAhead.status, 400, JSON.stringify(refusedAhead.body));
      assert.equal(refusedAhead.body.code, 'invalid_cursor');
    } finally {
      await rc.close();
    }
  });
});

describe('migration 021', () => {
  test('events from before the feed come first, in id order; each later write moves an event to the end', async () => {
    const at = Date.parse('2026-11-20T09:00:00Z');
    await withSchemaBefore(21, 'usr_feed', async (database) => {
      const db = database.db;
      const event = (id: string) => ({
        id, user_id: 'usr_feed', calendar_id: null, provider_event_id: null, title: id, description: null, location: null, start_ms: at, end_ms: at + HOUR,
        timezone: 'UTC', meeting_url: null, meeting_platform: null, meeting_identity: null, recurrence: null, recurring_event_id: null, original_start_ms: null,
        status: 'confirmed', is_deleted: 0, raw: '{}', created_at: at, updated_at: at, provider_series_id: null, platform: null, provider_calendar_id: null,
      });
      await db.insertInto('events').values([event('evt_b'), event('evt_a'), event('evt_c')]).execute();
      await migrate(db, database.engine, MIGRATIONS);
      // On PostgreSQL a change shows once every older transaction of the (shared) server has
      // ended: the feed is read until it holds as many rows as expected, for a few seconds at most.
      const feed = async (count: number) => {
        for (const deadline = Date.now() + 10_000; ;) {
          const rows = (await listEventChanges(db, database.engine, 'usr_feed', FEED_START, 10)).map((c) => [c.row.id, c.position.seq > 0]);
          if (rows.length >= count || Date.now() > deadline) return rows;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      assert.deepEqual(await feed(3), [['evt_a', false], ['evt_b', false], ['evt_c', false]]);
      await db.updateTable('events').set({ title: 'renamed' }).where('id', '=', 'evt_a').execute();
      await db.insertInto('events').values(event('evt_0')).execute();
      assert.deepEqual(await feed(4), [['evt_b', false], ['evt_c', false], ['evt_a', true], ['evt_0', true]]);
    });
  });
});
