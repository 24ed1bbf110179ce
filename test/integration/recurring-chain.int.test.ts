// Chain mode (spec section 8; reference meetstream.md sections 1.2, 5.7 and 8): recurring_event:
// true books a series' next occurrence only, and each time the booked occurrence's bot is launched
// (or the occurrence ends, or its bot is cancelled) the occurrence after it gets a bot with the
// same configuration and a key derived from the series key. POST /calendar/toggle-recurrence turns
// it off (the bot already booked stays) and on (books the next one if none is booked).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config.ts';
import { createRollcall, type Rollcall } from '../../src/container.ts';
import { openDatabase } from '../../src/db/database.ts';
import pg from 'pg';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createApiKey } from '../../src/services/access/api-keys.ts';
import { createTestDatabase, startTestRollcall, TEST_ENGINE, type TestRollcall } from '../support/harness.ts';
import { FakeHttpReceiver } from '../support/fake-http-receiver.ts';
import { diffSnapshots, snapshotDatabase } from '../support/openapi.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const EVENTS = '/api/v1/calendar/events';
const SCHEDULE = '/api/v1/calendar/schedule';
const TOGGLE = '/api/v1/calendar/toggle-recurrence';
const MINUTE = 60_000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function zoomNumber(): string {
  return `8${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
}

describe('chain mode', () => {
  let rc: TestRollcall;
  const clock = new ManualClock(NOW);
  const runtime = new FakeHttpReceiver();
  let user: { auth: string; userId: string };

  before(async () => {
    const runtimeUrl = await runtime.start();
    rc = await startTestRollcall({ clock, settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' } });
    user = await rc.newUser('chains');
  });
  after(async () => {
    await rc.close();
    await runtime.stop();
  });

  async function post(url: string, body: unknown): Promise<any> {
    const res = await rc.request('POST', url, { auth: user.auth, body });
    assert.ok(res.status < 300, `${url}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** A weekly series on Mondays at 10:00 UTC from 2026-11-23, with a Zoom link of its own. */
  async function weeklySeries(count = 6): Promise<any> {
    return post(EVENTS, {
      title: 'Standup', start_time: '2026-11-23T10:00:00Z', end_time: '2026-11-23T10:30:00Z', timezone: 'UTC',
      recurrence: [`RRULE:FREQ=WEEKLY;COUNT=${count}`], meeting_url: `https://zoom.us/j/${zoomNumber()}`,
    });
  }

  /** A daily series at 10:00 UTC from 2026-11-23, with a Zoom link of its own. */
  async function dailySeries(count: number): Promise<any> {
    return post(EVENTS, {
      title: 'Daily', start_time: '2026-11-23T10:00:00Z', end_time: '2026-11-23T10:30:00Z', timezone: 'UTC',
      recurrence: [`RRULE:FREQ=DAILY;COUNT=${count}`], meeting_url: `https://zoom.us/j/${zoomNumber()}`,
    });
  }

  /** The series' bots that are not cancelled, as [occurrence start, join time, status, key], by occurrence. */
  async function chainBots(seriesId: string): Promise<[string, string, string, string][]> {
    const rows = await rc.database.db.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bot_events.occurrence_key', 'bots.join_at_ms', 'bots.status', 'bots.deduplication_key', 'bots.id'])
      .where('bot_events.event_id', '=', seriesId).where('bots.status', '<>', 'Cancelled').orderBy('bots.join_at_ms').execute();
    return rows.map((r) => [r.occurrence_key, iso(r.join_at_ms), r.status, r.deduplication_key]);
  }

  async function botOf(seriesId: string, occurrenceKey: string): Promise<{ id: string; status: string; join_at_ms: number; bot_config: string }> {
    const row = await rc.database.db.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
      .select(['bots.id', 'bots.status', 'bots.join_at_ms', 'bots.bot_config'])
      .where('bot_events.event_id', '=', seriesId).where('bot_events.occurrence_key', '=', occurrenceKey).where('bots.status', '<>', 'Cancelled')
      .orderBy('bot_events.id', 'desc').executeTakeFirst();
    assert.ok(row, `no bot for ${occurrenceKey}`);
    return row;
  }

  /** The dispatcher fires what is due at `ms`; then the chain loop makes its pass (twice: the second must find nothing). */
  async function runAt(ms: number): Promise<number> {
    clock.set(ms);
    await rc.dispatcher.runDue();
    const first = await rc.chains.advance();
    const second = await rc.chains.advance();
    assert.equal(second.booked, 0, 'a second pass books nothing');
    return first.booked;
  }

  test('through six occurrences: each next one booked once, series and occurrence edits followed, toggling off stops after the current bot', async () => {
    clock.set(NOW);
    const series = await weeklySeries();
    const config = { bot_name: 'Chain Scribe', callback_url: 'http://127.0.0.1:9/hooks', custom_attributes: { team: 'core' }, automatic_leave: { waiting_room_timeout: 300 } };
    const first = await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'standup', bot_config: config, recurring_event: true });
    assert.deepEqual([first.recurring_enabled, first.is_recurring_occurrence, first.occurrence_date, first.scheduled_time, first.master_event_id], [true, true, '2026-11-23T10:00:00.000Z', '2026-11-23T09:57:00.000Z', series.id]);
    assert.deepEqual(await chainBots(series.id), [['20261123T100000Z', '2026-11-23T09:57:00.000Z', 'Scheduled', 'standup@20261123T100000Z']]);
    // Nothing to do before the booked occurrence is launched.
    assert.equal((await rc.chains.advance()).booked, 0);
    // The same request again changes nothing: the occurrence key makes it the same bot.
    const repeat = await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'standup', bot_config: config, recurring_event: true });
    assert.deepEqual([repeat.bot_id, repeat.updated_existing], [first.bot_id, true]);

    // 1. The first occurrence's bot is launched: the second occurrence is booked, with the same configuration.
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:00Z')), 1);
    const second = await botOf(series.id, '20261130T100000Z');
    assert.deepEqual(await chainBots(series.id), [
      ['20261123T100000Z', '2026-11-23T09:57:00.000Z', 'Joining', 'standup@20261123T100000Z'],
      ['20261130T100000Z', '2026-11-30T09:57:00.000Z', 'Scheduled', 'standup@20261130T100000Z'],
    ]);
    const secondConfig = JSON.parse(second.bot_config);
    assert.deepEqual([secondConfig.bot_name, secondConfig.callback_url, secondConfig.custom_attributes, secondConfig.automatic_leave], [config.bot_name, config.callback_url, config.custom_attributes, config.automatic_leave]);
    const secondDetail = (await rc.request('GET', `/api/v1/bots/${second.id}`, { auth: user.auth })).body;
    assert.deepEqual(secondDetail.decisions.map((d: any) => d.kind), ['scheduled', 'chain_booked']);
    assert.equal(secondDetail.status_timeline[0].reason, 'Booked by chain mode');
    const firstDetail = (await rc.request('GET', `/api/v1/bots/${first.bot_id}`, { auth: user.auth })).body;
    assert.equal(firstDetail.status_timeline[0].reason, 'Scheduled through the API', 'the first bot, the request\'s own');
    assert.deepEqual([secondDetail.origin, firstDetail.origin], ['chain', 'api']);

    // 2. An edit of the whole series (an hour later) moves the booked bot with it...
    const moved = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: user.auth, body: { start_time: '2026-11-23T11:00:00Z', end_time: '2026-11-23T11:30:00Z' } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(iso((await botOf(series.id, '20261130T110000Z')).join_at_ms), '2026-11-30T10:57:00.000Z');
    // ...and the next booking follows the edited series.
    assert.equal(await runAt(Date.parse('2026-11-30T10:57:00Z')), 1);
    assert.equal(iso((await botOf(series.id, '20261207T110000Z')).join_at_ms), '2026-12-07T10:57:00.000Z');

    // 3. An edit of one occurrence (moved to 15:00) moves its bot; a cancelled occurrence is skipped.
    await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-12-07T11:00:00Z', start_time: '2026-12-07T15:00:00Z', end_time: '2026-12-07T15:30:00Z' });
    assert.equal(iso((await botOf(series.id, '20261207T110000Z')).join_at_ms), '2026-12-07T14:57:00.000Z');
    await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-12-14T11:00:00Z', status: 'cancelled' });
    assert.equal(await runAt(Date.parse('2026-12-07T10:57:00Z')), 0, 'the moved occurrence is not due at its old time');
    assert.equal(await runAt(Date.parse('2026-12-07T14:57:00Z')), 1);
    assert.deepEqual((await chainBots(series.id)).map(([key, joinAt, status]) => [key, joinAt, status]), [
      // The launched bot's link followed the re-timed series too (its runtime got an update).
      ['20261123T110000Z', '2026-11-23T09:57:00.000Z', 'Joining'],
      ['20261130T110000Z', '2026-11-30T10:57:00.000Z', 'Joining'],
      ['20261207T110000Z', '2026-12-07T14:57:00.000Z', 'Joining'],
      ['20261221T110000Z', '2026-12-21T10:57:00.000Z', 'Scheduled'],
    ]);

    // 4. Toggled off: the bot already booked stays (the answer names it) and is launched; nothing further is booked.
    const off = await post(TOGGLE, { event_id: series.id, recurring_enabled: false });
    assert.deepEqual(off, {
      event_id: series.id, recurring_enabled: false, recurrence_rule: 'RRULE:FREQ=WEEKLY;COUNT=6', message: off.message, summary: 'Standup',
      start_time: '2026-11-23T11:00:00.000Z', end_time: '2026-11-23T11:30:00.000Z', bot_id: (await botOf(series.id, '20261221T110000Z')).id,
    });
    assert.equal(await runAt(Date.parse('2026-12-21T10:57:00Z')), 0);
    assert.equal((await botOf(series.id, '20261221T110000Z')).status, 'Joining');
    assert.equal((await chainBots(series.id)).length, 4, 'no bot for 12-28');

    // 5. On again: the next occurrence is booked at once; on again changes nothing.
    const on = await post(TOGGLE, { event_id: series.id, recurring_enabled: true });
    const last = await botOf(series.id, '20261228T110000Z');
    assert.deepEqual([on.recurring_enabled, on.bot_id, last.status], [true, last.id, 'Scheduled']);
    const onAgain = await post(TOGGLE, { event_id: `${series.id}_20261228T110000Z`, recurring_enabled: true });
    assert.equal(onAgain.bot_id, last.id);
    assert.equal((await chainBots(series.id)).length, 5);
    // 6. The series is over after this one: the chain books nothing more.
    assert.equal(await runAt(Date.parse('2026-12-28T10:57:00Z')), 0);
    assert.equal(runtime.received.filter((r) => r.json?.action === 'launch' && r.json?.events?.[0]?.event_id === series.id).length, 5, 'five launches, one per booked occurrence');
  });

  test('a cancelled bot, or an occurrence that ended without a launch, moves the chain on; unscheduling the series stops it', async () => {
    clock.set(NOW);
    const series = await weeklySeries();
    const first = await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'skip', bot_config: {}, recurring_event: true });
    // The client cancels the booked bot: the chain goes on with the occurrence after it.
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${first.bot_id}`, { auth: user.auth })).status, 200);
    assert.equal((await rc.chains.advance()).booked, 1);
    const second = await botOf(series.id, '20261130T100000Z');
    // Down through the whole second occurrence: it is Missed, and the chain books the third.
    assert.equal(await runAt(Date.parse('2026-11-30T11:00:00Z')), 1);
    assert.equal((await rc.request('GET', `/api/v1/bots/${second.id}/status`, { auth: user.auth })).body.status, 'Missed');
    const third = await botOf(series.id, '20261207T100000Z');
    // Unscheduling the whole series cancels the booked bot and stops the chain.
    const unscheduled = await rc.request('DELETE', `${SCHEDULE}/${series.id}`, { auth: user.auth });
    assert.equal(unscheduled.status, 200);
    assert.match(unscheduled.body.message, /chain mode/);
    assert.equal((await rc.request('GET', `/api/v1/bots/${third.id}/status`, { auth: user.auth })).body.status, 'Cancelled');
    assert.equal((await rc.chains.advance()).booked, 0);
    assert.deepEqual(await chainBots(series.id), [['20261130T100000Z', '2026-11-30T09:57:00.000Z', 'Missed', 'skip@20261130T100000Z']]);
    // On again: the chain goes on after the occurrence whose bot the unschedule cancelled. Then
    // the series is deleted: its bot is cancelled and the chain ends with it.
    const on = await post(TOGGLE, { event_id: series.id, recurring_enabled: true });
    assert.equal((await rc.request('GET', `/api/v1/bots/${on.bot_id}`, { auth: user.auth })).body.deduplication_key, 'skip@20261214T100000Z');
    assert.equal((await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: user.auth })).status, 200);
    assert.equal((await rc.chains.advance()).booked, 0);
    const chain = await rc.database.db.selectFrom('recurring_chains').select(['is_enabled', 'last_error']).where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
    assert.deepEqual({ ...chain }, { is_enabled: 0, last_error: 'the series was deleted' });
  });

  test('the chain-mode request sent again updates the bot the chain has booked: it does not take the chain back to the occurrence under way, nor to one whose bot the client cancelled', async () => {
    clock.set(NOW);
    const series = await weeklySeries();
    const request = { deduplication_key: 'resent', bot_config: { bot_name: 'Chain' }, recurring_event: true };
    const first = await post(`${SCHEDULE}/${series.id}`, request);
    // The first occurrence's bot launches (the second is booked); the client cancels the second's
    // bot (the chain moves on to the third); the first meeting is still under way.
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:00Z')), 1);
    const second = await botOf(series.id, '20261130T100000Z');
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${second.id}`, { auth: user.auth })).status, 200);
    assert.equal((await rc.chains.advance()).booked, 1);
    const third = await botOf(series.id, '20261207T100000Z');
    clock.set(Date.parse('2026-11-23T10:10:00Z'));
    const again = await post(`${SCHEDULE}/${series.id}`, { ...request, bot_config: { bot_name: 'Chain, renamed' } });
    assert.deepEqual([again.bot_id, again.updated_existing, again.occurrence_date], [third.id, true, '2026-12-07T10:00:00.000Z'], 'the request answers with the chain\'s booked bot, updated');
    assert.equal(JSON.parse((await botOf(series.id, '20261207T100000Z')).bot_config).bot_name, 'Chain, renamed');
    assert.equal((await rc.chains.advance()).booked, 0, 'nothing booked again');
    assert.deepEqual((await chainBots(series.id)).map(([key, , status]) => [key, status]), [['20261123T100000Z', 'Joining'], ['20261207T100000Z', 'Scheduled']]);
    assert.notEqual(first.bot_id, again.bot_id);
    // Its bot cancelled and the request sent again before the chain loop's pass: it books what the
    // loop would have, the occurrence after, not the cancelled one nor the one under way.
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${third.id}`, { auth: user.auth })).status, 200);
    const raced = await post(`${SCHEDULE}/${series.id}`, request);
    assert.equal(raced.occurrence_date, '2026-12-14T10:00:00.000Z');
    assert.equal((await rc.chains.advance()).booked, 0);
    assert.deepEqual((await chainBots(series.id)).map(([key, , status]) => [key, status]), [['20261123T100000Z', 'Joining'], ['20261214T100000Z', 'Scheduled']]);
    // An occurrence named explicitly still starts the chain there.
    const named = await post(`${SCHEDULE}/${series.id}`, { ...request, occurrence_date: '2026-12-21T10:00:00Z' });
    assert.equal(named.occurrence_date, '2026-12-21T10:00:00.000Z');
    // Done with it: the chain ends with its series, leaving the tests after this one alone.
    assert.equal((await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: user.auth })).status, 200);
  });

  test('a chain started with a join_at pins that first bot alone: the next occurrences are booked at their own join times', async () => {
    clock.set(NOW);
    const series = await weeklySeries(3);
    const first = await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'pinned-first', bot_config: { join_at: '2026-11-23T09:50:00Z' }, recurring_event: true });
    assert.equal(first.scheduled_time, '2026-11-23T09:50:00.000Z');
    assert.equal(await runAt(Date.parse('2026-11-23T09:50:00Z')), 1);
    assert.equal(iso((await botOf(series.id, '20261130T100000Z')).join_at_ms), '2026-11-30T09:57:00.000Z');
    assert.equal((await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: user.auth })).status, 200);
  });

  test('a chain with nothing left to book picks up an edit that gives it more (the rule extended, a cancelled occurrence brought back) at its next pass, not an hour later', async () => {
    clock.set(NOW);
    const series = await weeklySeries(1);
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'extended', bot_config: {}, recurring_event: true });
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:00Z')), 0, 'the only occurrence launched: nothing left to book');
    const waiting = await rc.database.db.selectFrom('recurring_chains').select(['next_check_at_ms', 'last_error']).where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
    assert.ok(Number(waiting.next_check_at_ms) > clock.now() + 30 * 60_000, 'told to wait');
    clock.advance(60_000);
    assert.equal((await rc.chains.advance()).booked, 0, 'nothing changed: still waiting');
    // The rule is extended to three weeks: the second occurrence is booked at the next pass.
    clock.advance(60_000);
    const extended = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: user.auth, body: { recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'] } });
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    clock.advance(1_000);
    assert.equal((await rc.chains.advance()).booked, 1);
    assert.equal((await botOf(series.id, '20261130T100000Z')).status, 'Scheduled');
    // Done with it: the chain ends with its series, leaving the tests after this one alone.
    assert.equal((await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: user.auth })).status, 200);
  });

  test('toggle-recurrence: the shape, an occurrence already covered, and the refusals', async () => {
    clock.set(NOW);
    const series = await weeklySeries(4);
    // A series booked in full: turning the chain on adopts the next bot instead of booking another.
    const all = await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'batch', bot_config: {}, schedule_all_occurrences: true, occurrence_limit: 2 });
    const on = await post(TOGGLE, { event_id: series.id, recurring_enabled: true });
    assert.deepEqual(Object.keys(on).sort(), ['bot_id', 'end_time', 'event_id', 'message', 'recurrence_rule', 'recurring_enabled', 'start_time', 'summary']);
    assert.equal(on.bot_id, all.schedules_created[0].bot_id);
    assert.equal((await chainBots(series.id)).length, 2);
    // When the adopted bot is launched the chain follows the batch's own bot, then books the third
    // occurrence under the batch's key when the second is launched.
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:00Z')), 0);
    assert.equal(await runAt(Date.parse('2026-11-30T09:57:00Z')), 1);
    assert.deepEqual((await chainBots(series.id)).map(([key, , , dedup]) => [key, dedup]), [
      ['20261123T100000Z', 'batch@20261123T100000Z'], ['20261130T100000Z', 'batch@20261130T100000Z'], ['20261207T100000Z', 'batch@20261207T100000Z'],
    ]);

    // A series that never had a bot: on books its next occurrence with the default configuration.
    const fresh = await weeklySeries(3);
    const freshOn = await post(TOGGLE, { event_id: fresh.id, recurring_enabled: true });
    const booked = await rc.request('GET', `/api/v1/bots/${freshOn.bot_id}`, { auth: user.auth });
    assert.equal(booked.body.bot_config.bot_name, 'Rollcall Notetaker');
    // The clock is at 11-30 09:57: the 10:00 occurrence has not ended, so it is the next one.
    assert.match(booked.body.deduplication_key, /^meeting:zoom:\d+@20261130T100000Z$/);

    const single = await post(EVENTS, { start_time: iso(NOW + 3_600_000), end_time: iso(NOW + 5_400_000), meeting_url: `https://zoom.us/j/${zoomNumber()}` });
    const other = await rc.newUser('other');
    const otherSeries = await rc.request('POST', EVENTS, { auth: other.auth, body: { start_time: '2026-11-23T10:00:00Z', end_time: '2026-11-23T10:30:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=3'], meeting_url: 'https://zoom.us/j/85550001111' } });
    const cases: [unknown, number, string, string][] = [
      [{ event_id: single.id, recurring_enabled: true }, 400, 'event_not_recurring', 'event_id'],
      [{ event_id: single.id, recurring_enabled: false }, 400, 'event_not_recurring', 'event_id'],
      [{ event_id: 'evt_nosuchevent', recurring_enabled: true }, 404, 'event_not_found', 'event_id'],
      [{ event_id: otherSeries.body.id, recurring_enabled: true }, 404, 'event_not_found', 'event_id'],
      [{ event_id: series.id }, 400, 'validation_error', 'recurring_enabled'],
      [{ event_id: series.id, recurring_enabled: 'yes' }, 400, 'validation_error', 'recurring_enabled'],
      [{ recurring_enabled: true }, 400, 'validation_error', 'event_id'],
    ];
    for (const [body, status, code, field] of cases) {
      const before = await snapshotDatabase(rc, { api_keys: ['last_used_at'] });
      const res = await rc.request('POST', TOGGLE, { auth: user.auth, body });
      assert.equal(`${res.status} ${res.body.code} ${res.body.details?.field}`, `${status} ${code} ${field}`, JSON.stringify(body));
      assert.deepEqual(diffSnapshots(before, await snapshotDatabase(rc, { api_keys: ['last_used_at'] })), []);
    }
    // Off for a series that never had a chain: a plain answer that writes nothing (MeetStream's way
    // to ask "is this recurring").
    const plain = await weeklySeries(2);
    const before = await snapshotDatabase(rc, { api_keys: ['last_used_at'] });
    const probe = await post(TOGGLE, { event_id: plain.id, recurring_enabled: false });
    assert.deepEqual([probe.recurring_enabled, probe.bot_id, probe.recurrence_rule], [false, null, 'RRULE:FREQ=WEEKLY;COUNT=2']);
    assert.deepEqual(diffSnapshots(before, await snapshotDatabase(rc, { api_keys: ['last_used_at'] })), []);
    // recurring_event on a schedule request: not with schedule_all_occurrences, not on a single event.
    const both = await rc.request('POST', `${SCHEDULE}/${series.id}`, { auth: user.auth, body: { deduplication_key: 'x', bot_config: {}, recurring_event: true, schedule_all_occurrences: true } });
    assert.equal(`${both.status} ${both.body.code} ${both.body.details?.field}`, '400 validation_error recurring_event');
    const notSeries = await rc.request('POST', `${SCHEDULE}/${single.id}`, { auth: user.auth, body: { deduplication_key: 'x', bot_config: {}, recurring_event: true } });
    assert.equal(`${notSeries.status} ${notSeries.body.code} ${notSeries.body.details?.field}`, '400 event_not_recurring recurring_event');
  });

  test('an occurrence moved ahead of the one whose bot the chain waits for gets its bot before that one launches, and the chain still books the occurrences between', async () => {
    clock.set(NOW);
    // Daily at 10:00 UTC, 11-23 to 11-27.
    const series = await dailySeries(5);
    const first = await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'daily', bot_config: {}, recurring_event: true });
    assert.equal(first.occurrence_date, '2026-11-23T10:00:00.000Z');
    const summary = async () => (await chainBots(series.id)).map(([key, joinAt, status]) => `${key} ${joinAt.slice(5, 16)} ${status}`);

    // 1. The booked meeting (11-23) is put off to 11-24 15:00, past the 11-24 10:00 one: the chain
    // would book that one only when the booked bot launches, at 14:57, after its meeting. It is
    // booked at the chain's next pass, under the chain's key; a pass after it finds nothing to do.
    clock.advance(1_000);
    await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-11-23T10:00:00Z', start_time: '2026-11-24T15:00:00Z', end_time: '2026-11-24T15:30:00Z' });
    assert.equal((await rc.chains.advance()).booked, 1);
    assert.equal((await rc.chains.advance()).booked, 0);
    assert.deepEqual(await summary(), ['20261124T100000Z 11-24T09:57 Scheduled', '20261123T100000Z 11-24T14:57 Scheduled']);
    const movedAhead = await botOf(series.id, '20261124T100000Z');
    const decisions = (await rc.request('GET', `/api/v1/bots/${movedAhead.id}`, { auth: user.auth })).body.decisions;
    assert.equal(decisions.at(-1).kind, 'chain_booked');
    assert.match(decisions.at(-1).reason, /now starts before/);
    assert.equal((await rc.request('GET', `/api/v1/bots/${movedAhead.id}`, { auth: user.auth })).body.deduplication_key, 'daily@20261124T100000Z');
    // Its launch is not the chain's: nothing more is booked until the booked bot launches.
    assert.equal(await runAt(Date.parse('2026-11-24T09:57:00Z')), 0);
    assert.equal(await runAt(Date.parse('2026-11-24T14:57:00Z')), 1);
    assert.deepEqual((await summary()).slice(2), ['20261125T100000Z 11-25T09:57 Scheduled']);

    // 2. The last meeting (11-27) is brought forward to 11-25 09:30, half an hour before the booked
    // one, and is still under way when that one's bot launches: its bot is booked at once, and the
    // chain then books 11-26 rather than standing at 11-27 and booking nothing more.
    clock.advance(1_000);
    await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-11-27T10:00:00Z', start_time: '2026-11-25T09:30:00Z', end_time: '2026-11-25T10:30:00Z' });
    assert.equal((await rc.chains.advance()).booked, 1);
    assert.equal(await runAt(Date.parse('2026-11-25T09:27:00Z')), 0);
    assert.equal(await runAt(Date.parse('2026-11-25T09:57:00Z')), 1);
    assert.deepEqual((await summary()).slice(2), [
      '20261127T100000Z 11-25T09:27 Joining', '20261125T100000Z 11-25T09:57 Joining', '20261126T100000Z 11-26T09:57 Scheduled',
    ]);
    assert.equal(await runAt(Date.parse('2026-11-26T09:57:00Z')), 0, 'every occurrence has had its bot');
    const launches = runtime.received.filter((r) => r.json?.action === 'launch' && r.json?.events?.[0]?.event_id === series.id);
    assert.equal(launches.length, 5, 'one launch per occurrence');
  });

  test('the chain books in the series\' order: an occurrence moved ahead of the next one gets its bot out of turn, and the chain does not stand past the ones between', async () => {
    clock.set(NOW);
    const series = await dailySeries(6);
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'order', bot_config: {}, recurring_event: true });
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:00Z')), 1);
    // 11-24's bot launches; before the chain's pass, 11-27 is brought forward to 11-24 15:00.
    clock.set(Date.parse('2026-11-24T09:57:00Z'));
    await rc.dispatcher.runDue();
    await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-11-27T10:00:00Z', start_time: '2026-11-24T15:00:00Z', end_time: '2026-11-24T15:30:00Z' });
    assert.equal((await rc.chains.advance()).booked, 2);
    assert.equal((await rc.chains.advance()).booked, 0);
    const summary = async () => (await chainBots(series.id)).map(([key, joinAt, status]) => `${key} ${joinAt.slice(5, 16)} ${status}`);
    assert.deepEqual((await summary()).slice(2), ['20261127T100000Z 11-24T14:57 Scheduled', '20261125T100000Z 11-25T09:57 Scheduled']);
    // Then each day in turn: 11-26, then 11-28 (11-27 was held on 11-24).
    assert.equal(await runAt(Date.parse('2026-11-24T14:57:00Z')), 0);
    assert.equal(await runAt(Date.parse('2026-11-25T09:57:00Z')), 1);
    assert.equal(await runAt(Date.parse('2026-11-26T09:57:00Z')), 1);
    assert.deepEqual((await summary()).slice(-2), ['20261126T100000Z 11-26T09:57 Joining', '20261128T100000Z 11-28T09:57 Scheduled']);
    assert.equal((await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: user.auth })).status, 200);
  });

  test('an occurrence behind the chain that comes back (restored after a cancellation, or moved on after its bot left an empty meeting) gets a bot again; one the client cancelled does not', async () => {
    clock.set(NOW);
    const series = await post(EVENTS, {
      title: 'Weekly sync', start_time: '2026-11-23T10:00:00Z', end_time: '2026-11-23T10:30:00Z', timezone: 'UTC',
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=6'], meeting_url: `https://zoom.us/j/${zoomNumber()}`,
    });
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'back', bot_config: {}, recurring_event: true });
    const live = async () => (await chainBots(series.id)).filter(([, , status]) => status === 'Scheduled' || status === 'Joining').map(([key, joinAt, status]) => `${key} ${joinAt.slice(5, 16)} ${status}`);

    // 1. 11-23's meeting is cancelled: its bot goes, and the chain books 11-30. Brought back, 11-23
    // gets a bot again at the chain's next pass, though the chain stands at 11-30.
    clock.advance(1_000);
    const cancelled = await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-11-23T10:00:00Z', status: 'cancelled' });
    assert.equal((await rc.chains.advance()).booked, 1);
    assert.deepEqual(await live(), ['20261130T100000Z 11-30T09:57 Scheduled']);
    clock.advance(1_000);
    const restored = await rc.request('PATCH', `${EVENTS}/${cancelled.id}`, { auth: user.auth, body: { status: 'confirmed' } });
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    clock.advance(1_000);
    assert.equal((await rc.chains.advance()).booked, 1);
    assert.equal((await rc.chains.advance()).booked, 0);
    assert.deepEqual(await live(), ['20261123T100000Z 11-23T09:57 Scheduled', '20261130T100000Z 11-30T09:57 Scheduled']);
    const back = await botOf(series.id, '20261123T100000Z');
    const detail = (await rc.request('GET', `/api/v1/bots/${back.id}`, { auth: user.auth })).body;
    assert.equal(detail.deduplication_key, 'back@20261123T100000Z');
    assert.match(detail.decisions.at(-1).reason, /back in the calendar/);

    // 2. 11-23's bot goes, finds nobody and leaves (Done); the meeting is then put off to 11-25:
    // still to come, it gets a bot again.
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:00Z')), 0, 'not the chain\'s turn: 11-30 is booked');
    const launch = runtime.received.filter((r) => r.json?.action === 'launch' && r.json?.bot_id === back.id).at(-1);
    assert.ok(launch, 'launched');
    clock.set(Date.parse('2026-11-23T10:20:00Z'));
    const done = await rc.request('POST', `/api/v1/bots/${back.id}/status`, { headers: { authorization: `Bearer ${launch.json.status_token}` }, body: { status: 'Done' } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    clock.advance(1_000);
    const moved = await rc.request('PATCH', `${EVENTS}/${cancelled.id}`, { auth: user.auth, body: { start_time: '2026-11-25T15:00:00Z', end_time: '2026-11-25T15:30:00Z' } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    clock.advance(1_000);
    assert.equal((await rc.chains.advance()).booked, 1);
    assert.deepEqual(await live(), ['20261123T100000Z 11-25T14:57 Scheduled', '20261130T100000Z 11-30T09:57 Scheduled']);

    // 3. A bot the client cancels stays cancelled, whatever the calendar does after.
    const again = await botOf(series.id, '20261123T100000Z');
    assert.notEqual(again.id, back.id);
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${again.id}`, { auth: user.auth })).status, 200);
    clock.advance(1_000);
    assert.equal((await rc.request('PATCH', `${EVENTS}/${cancelled.id}`, { auth: user.auth, body: { title: 'Weekly sync, moved' } })).status, 200);
    clock.advance(1_000);
    assert.equal((await rc.chains.advance()).booked, 0);
    assert.deepEqual(await live(), ['20261130T100000Z 11-30T09:57 Scheduled']);
    assert.equal((await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: user.auth })).status, 200);
  });

  test('an occurrence the chain passed for want of a link gets its bot when the link comes, the chain staying where it stands; one before where the client started it does not', async () => {
    clock.set(NOW);
    const series = await weeklySeries();
    // 11-30 has no link of its own (the room booked, the call not set up yet).
    const override = await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-11-30T10:00:00Z', title: 'Standup (room only)' });
    clock.advance(1_000);
    const unlinked = await rc.request('PATCH', `${EVENTS}/${override.id}`, { auth: user.auth, body: { meeting_url: null } });
    assert.equal(unlinked.status, 200, JSON.stringify(unlinked.body));
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'passed', bot_config: {}, recurring_event: true });
    const live = async () => (await chainBots(series.id)).filter(([, , status]) => status === 'Scheduled').map(([key]) => key);

    // 11-23 launches: 11-30 cannot be booked, so the chain books 12-07.
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:00Z')), 1);
    assert.deepEqual(await live(), ['20261207T100000Z']);
    // The chain-mode request sent again (naming no occurrence) updates 12-07's bot and keeps 11-30 the chain's.
    const again = await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'passed', bot_config: {}, recurring_event: true });
    assert.equal(again.occurrence_date, '2026-12-07T10:00:00.000Z');

    // 11-30 gets its link: booked at the chain's next pass, out of turn; the chain stays on 12-07.
    clock.set(Date.parse('2026-11-25T09:00:00Z'));
    const linked = await rc.request('PATCH', `${EVENTS}/${override.id}`, { auth: user.auth, body: { meeting_url: `https://zoom.us/j/${zoomNumber()}` } });
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    clock.advance(1_000);
    assert.equal((await rc.chains.advance()).booked, 1);
    assert.equal((await rc.chains.advance()).booked, 0);
    assert.deepEqual(await live(), ['20261130T100000Z', '20261207T100000Z']);
    const passed = (await rc.request('GET', `/api/v1/bots/${(await botOf(series.id, '20261130T100000Z')).id}`, { auth: user.auth })).body;
    assert.equal(passed.deduplication_key, 'passed@20261130T100000Z');
    assert.match(passed.decisions.at(-1).reason, /passed this occurrence/);
    const chain = await rc.database.db.selectFrom('recurring_chains').select(['current_occurrence_key']).where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
    assert.equal(chain.current_occurrence_key, '20261207T100000Z');
    assert.equal((await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: user.auth })).status, 200);
  });

  test('an occurrence the chain passed because the client\'s own key for another meeting took its key gets its bot within a minute of that key being freed; until then the chain looks once a minute, not at every pass', async () => {
    clock.set(NOW);
    const series = await weeklySeries(4);
    // The client's own bot for another meeting, under the key the chain derives for 11-30.
    const other = await post(EVENTS, { title: 'Other', start_time: '2026-11-25T10:00:00Z', end_time: '2026-11-25T10:30:00Z', meeting_url: `https://zoom.us/j/${zoomNumber()}` });
    const clients = await post(`${SCHEDULE}/${other.id}`, { deduplication_key: 'taken@20261130T100000Z', bot_config: {} });
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'taken', bot_config: {}, recurring_event: true });
    const live = async () => (await chainBots(series.id)).filter(([, , status]) => status === 'Scheduled').map(([key]) => key);
    // 11-23 launches: 11-30's key is taken, so the chain passes it and books 12-07.
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:00Z')), 1);
    assert.deepEqual(await live(), ['20261207T100000Z']);
    const chainRow = () => rc.database.db.selectFrom('recurring_chains').select(['updated_at', 'last_error']).where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
    // Still taken: looked at again after a minute, and not before.
    const looked = Number((await chainRow()).updated_at);
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:30Z')), 0);
    assert.equal(Number((await chainRow()).updated_at), looked, 'not looked at again within the minute');
    assert.equal(await runAt(Date.parse('2026-11-23T09:58:30Z')), 0);
    assert.ok(Number((await chainRow()).updated_at) > looked, 'looked at again after a minute');
    // The client cancels its own bot: the key is free, and 11-30 is booked out of turn within a minute.
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${clients.bot_id}`, { auth: user.auth })).status, 200);
    assert.equal(await runAt(Date.parse('2026-11-23T10:00:00Z')), 1);
    assert.deepEqual(await live(), ['20261130T100000Z', '20261207T100000Z']);
    assert.match((await rc.request('GET', `/api/v1/bots/${(await botOf(series.id, '20261130T100000Z')).id}`, { auth: user.auth })).body.decisions.at(-1).reason, /passed this occurrence/);
    // Nothing passed is left to come: the chain is not looked at again while its bot waits.
    const settled = Number((await chainRow()).updated_at);
    assert.equal(await runAt(Date.parse('2026-11-23T12:00:00Z')), 0);
    assert.equal(Number((await chainRow()).updated_at), settled);
  });

  test('a change stamped just before the chain\'s last look (a transaction whose clock was read before it committed) is still seen', async () => {
    clock.set(NOW);
    const series = await dailySeries(5);
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'race', bot_config: {}, recurring_event: true });
    clock.advance(1_000);
    await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-11-25T10:00:00Z', title: 'renamed' });
    clock.advance(1_000);
    const passAt = clock.now();
    await rc.chains.advance();
    // Committed after that pass, stamped 300 ms before it: 11-26 brought forward to 11-23 08:00.
    clock.set(passAt - 300);
    await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-11-26T10:00:00Z', start_time: '2026-11-23T08:00:00Z', end_time: '2026-11-23T08:30:00Z' });
    clock.set(passAt + 60_000);
    assert.equal((await rc.chains.advance()).booked, 1);
    assert.equal((await botOf(series.id, '20261126T100000Z')).join_at_ms, Date.parse('2026-11-23T07:57:00Z'));
    assert.equal((await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: user.auth })).status, 200);
  });

  test('a bot booked out of turn that the client cancels stays cancelled through the series\' later changes and the chain\'s steps', async () => {
    clock.set(NOW);
    const series = await dailySeries(5);
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'cancelled-out-of-turn', bot_config: {}, recurring_event: true });
    clock.advance(5_000);
    await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-11-23T10:00:00Z', start_time: '2026-11-24T15:00:00Z', end_time: '2026-11-24T15:30:00Z' });
    assert.equal((await rc.chains.advance()).booked, 1);
    const outOfTurn = await botOf(series.id, '20261124T100000Z');
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${outOfTurn.id}`, { auth: user.auth })).status, 200);
    clock.advance(5_000);
    await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-11-26T10:00:00Z', title: 'renamed' });
    clock.advance(5_000);
    assert.equal((await rc.chains.advance()).booked, 0, 'not booked again at a later change');
    // 11-23's bot (put off to 11-24 15:00) is cancelled too: the chain steps on to 11-25, not back to 11-24.
    const booked = await botOf(series.id, '20261123T100000Z');
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${booked.id}`, { auth: user.auth })).status, 200);
    assert.equal((await rc.chains.advance()).booked, 1);
    const live = (await chainBots(series.id)).filter(([, , status]) => status === 'Scheduled').map(([key]) => key);
    assert.deepEqual(live, ['20261125T100000Z']);
    assert.equal((await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: user.auth })).status, 200);
  });

  test('chain mode from an occurrence id starts at that occurrence', async () => {
    clock.set(NOW);
    const series = await weeklySeries();
    const res = await post(`${SCHEDULE}/${series.id}_20261207T100000Z`, { deduplication_key: 'from-third', bot_config: {}, recurring_event: true });
    assert.equal(res.occurrence_date, '2026-12-07T10:00:00.000Z');
    // The two before it, still to come and never booked, are not the chain's: a change of the
    // series has it look again, and it books neither.
    clock.advance(1_000);
    await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-11-30T10:00:00Z', title: 'renamed' });
    clock.advance(1_000);
    assert.equal((await rc.chains.advance()).booked, 0);
    assert.deepEqual((await chainBots(series.id)).map(([key]) => key), ['20261207T100000Z']);
    await runAt(Date.parse('2026-12-07T09:57:00Z'));
    assert.deepEqual((await chainBots(series.id)).map(([key]) => key), ['20261207T100000Z', '20261214T100000Z']);
  });

  test('a series whose COUNT has run out: the chain rests, looking at it only once a day until the series changes, and toggle-recurrence says it has ended', async () => {
    clock.set(NOW);
    const series = await dailySeries(2);
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'runs-out', bot_config: {}, recurring_event: true });
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:00Z')), 1);
    assert.equal(await runAt(Date.parse('2026-11-24T09:57:00Z')), 0);
    const chainRow = () => rc.database.db.selectFrom('recurring_chains').select(['is_enabled', 'last_error', 'updated_at']).where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
    // The last meeting under way: nothing to book, but it is not over yet.
    assert.equal((await chainRow()).last_error, 'no upcoming occurrence to book');
    // Over: the chain says so, and then rests (no look every hour at a series with nothing left).
    await runAt(Date.parse('2026-11-24T11:30:00Z'));
    const over = await chainRow();
    assert.deepEqual([over.is_enabled, over.last_error], [1, 'the series has ended']);
    for (const hours of [2, 5, 23]) {
      await runAt(Date.parse('2026-11-24T11:30:00Z') + hours * 3_600_000);
      assert.equal(Number((await chainRow()).updated_at), Number(over.updated_at), `not looked at again ${hours} h later`);
    }
    // A day later it looks once (a change it missed would be seen then), and rests again.
    await runAt(Date.parse('2026-11-25T11:30:00Z'));
    const again = await chainRow();
    assert.deepEqual([Number(again.updated_at), again.last_error], [Date.parse('2026-11-25T11:30:00Z'), 'the series has ended']);
    const on = await post(TOGGLE, { event_id: series.id, recurring_enabled: true });
    assert.deepEqual([on.recurring_enabled, on.bot_id], [true, null]);
    assert.match(on.message, /the series has ended/);
    // A series changed so that it goes on (its COUNT raised) is looked at again at the chain's next pass.
    clock.advance(60_000);
    const extended = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: user.auth, body: { recurrence: ['RRULE:FREQ=DAILY;COUNT=5'] } });
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    assert.equal(await runAt(clock.now() + 1_000), 1);
    assert.deepEqual((await chainBots(series.id)).map(([key, , status]) => [key, status]).at(-1), ['20261126T100000Z', 'Scheduled']);
    assert.equal((await chainRow()).last_error, null);
  });

  test('a cancelled series: the chain rests (a day at a time) until the series changes, and books again when it is confirmed', async () => {
    clock.set(NOW);
    const series = await weeklySeries(6);
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'called-off', bot_config: {}, recurring_event: true });
    clock.advance(60_000);
    const cancelled = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: user.auth, body: { status: 'cancelled' } });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const chainRow = () => rc.database.db.selectFrom('recurring_chains').select(['is_enabled', 'last_error', 'updated_at']).where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
    // (Past CHANGE_GRACE_MS: a change that close before a look is looked at once more.)
    await runAt(clock.now() + 5_000);
    const resting = await chainRow();
    assert.deepEqual([resting.is_enabled, resting.last_error], [1, 'the series is cancelled or no longer recurring']);
    for (const hours of [2, 23]) {
      await runAt(NOW + hours * 3_600_000);
      assert.equal(Number((await chainRow()).updated_at), Number(resting.updated_at), `not looked at again ${hours} h later`);
    }
    clock.advance(60_000);
    const confirmed = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: user.auth, body: { status: 'confirmed' } });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    await runAt(clock.now() + 1_000);
    assert.deepEqual((await chainBots(series.id)).map(([key, , status]) => [key, status])[0], ['20261123T100000Z', 'Scheduled']);
  });

  test('a series cancelled and brought back: the chain holds one waiting bot at every step, and one bot launches for its next occurrence', async () => {
    clock.set(NOW);
    const series = await weeklySeries(6);
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'uncancelled', bot_config: {}, recurring_event: true });
    const waiting = async () => (await chainBots(series.id)).filter(([, , status]) => status === 'Scheduled').map(([key]) => key);
    assert.deepEqual(await waiting(), ['20261123T100000Z']);
    clock.advance(60_000);
    const cancelled = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: user.auth, body: { status: 'cancelled' } });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.deepEqual(await waiting(), [], 'the calendar called the series off: no bot waits');
    await runAt(clock.now() + 5_000);
    assert.deepEqual(await waiting(), [], 'a called-off series has nothing booked');
    clock.advance(60_000);
    const confirmed = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: user.auth, body: { status: 'confirmed' } });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.ok((await waiting()).length <= 1, `at most one bot waits after the series is back: ${await waiting()}`);
    await runAt(clock.now() + 1_000);
    assert.deepEqual(await waiting(), ['20261123T100000Z'], 'one bot, for the next occurrence');
    await runAt(clock.now() + 5_000);
    assert.deepEqual(await waiting(), ['20261123T100000Z'], 'still one at the next pass');
    const launchesBefore = runtime.received.length;
    await runAt(Date.parse('2026-11-23T09:57:00Z'));
    const seriesBots = new Set((await rc.database.db.selectFrom('bot_events').select('bot_id').where('event_id', '=', series.id).execute()).map((r) => r.bot_id));
    const launched = runtime.received.slice(launchesBefore).filter((r) => r.json?.action === 'launch' && seriesBots.has(r.json?.bot_id));
    assert.equal(launched.length, 1, 'one bot launches for 11-23');
    assert.deepEqual(await waiting(), ['20261130T100000Z'], 'and the chain books the next one, once');
    assert.equal((await rc.request('DELETE', `${EVENTS}/${series.id}`, { auth: user.auth })).status, 200);
  });

  test('toggle-recurrence with an occurrence id of another user\'s series, stale or not, is 404, on or off, and changes nothing', async () => {
    clock.set(NOW);
    const series = await weeklySeries(6);
    const stranger = await rc.newUser('stranger');
    const before = await snapshotDatabase(rc, { api_keys: ['last_used_at'] });
    for (const [eventId, isEnabled] of [[`${series.id}_20261130T110000Z`, true], [`${series.id}_20261130T100000Z`, true], [`${series.id}_20261130T110000Z`, false], [series.id, true]] as const) {
      const res = await rc.request('POST', TOGGLE, { auth: stranger.auth, body: { event_id: eventId, recurring_enabled: isEnabled } });
      assert.equal(`${res.status} ${res.body.code}`, '404 event_not_found', `${eventId} ${isEnabled}`);
    }
    assert.deepEqual(diffSnapshots(before, await snapshotDatabase(rc, { api_keys: ['last_used_at'] })), []);
  });

  test('toggle-recurrence on an occurrence id or an override answers with that occurrence\'s title and times; an occurrence id whose series is unknown is 404', async () => {
    clock.set(NOW);
    const series = await weeklySeries(4);
    const moved = await post(EVENTS, { recurring_event_id: series.id, original_start_time: '2026-12-07T10:00:00Z', start_time: '2026-12-07T15:00:00Z', end_time: '2026-12-07T16:00:00Z', title: 'Standup, later' });
    const answers: [string, string, string, string][] = [];
    for (const eventId of [series.id, `${series.id}_20261130T100000Z`, moved.id, `${series.id}_20261207T100000Z`]) {
      const res = await post(TOGGLE, { event_id: eventId, recurring_enabled: false });
      assert.equal(res.event_id, eventId);
      assert.equal(res.recurrence_rule, 'RRULE:FREQ=WEEKLY;COUNT=4', 'the series\' rule, whichever of its events is named');
      answers.push([res.event_id, res.summary, res.start_time, res.end_time]);
    }
    assert.deepEqual(answers, [
      [series.id, 'Standup', '2026-11-23T10:00:00.000Z', '2026-11-23T10:30:00.000Z'],
      [`${series.id}_20261130T100000Z`, 'Standup', '2026-11-30T10:00:00.000Z', '2026-11-30T10:30:00.000Z'],
      [moved.id, 'Standup, later', '2026-12-07T15:00:00.000Z', '2026-12-07T16:00:00.000Z'],
      // The moved occurrence's id from before the move names it still.
      [`${series.id}_20261207T100000Z`, 'Standup, later', '2026-12-07T15:00:00.000Z', '2026-12-07T16:00:00.000Z'],
    ]);
    // An occurrence id of no series there is (never one of the user's): nothing to turn on or off.
    const before = await snapshotDatabase(rc, { api_keys: ['last_used_at'] });
    const missing = await rc.request('POST', TOGGLE, { auth: user.auth, body: { event_id: `${series.id}x_20261123T100000Z`, recurring_enabled: true } });
    assert.equal(`${missing.status} ${missing.body.code} ${missing.body.details?.field}`, '404 event_not_found event_id');
    assert.deepEqual(diffSnapshots(before, await snapshotDatabase(rc, { api_keys: ['last_used_at'] })), []);
  });

  test('the series\' last occurrence, passed because another meeting\'s bot held its key, is booked within a minute of the key being freed', async () => {
    clock.set(NOW);
    const series = await weeklySeries(2);
    const other = await post(EVENTS, { title: 'Other', start_time: '2026-11-25T10:00:00Z', end_time: '2026-11-25T10:30:00Z', meeting_url: `https://zoom.us/j/${zoomNumber()}` });
    const clients = await post(`${SCHEDULE}/${other.id}`, { deduplication_key: 'taken-last@20261130T100000Z', bot_config: {} });
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'taken-last', bot_config: {}, recurring_event: true });
    // 11-23 launches: 11-30 (the last one) cannot be booked, its key taken.
    assert.equal(await runAt(Date.parse('2026-11-23T09:57:00Z')), 0);
    const waiting = await rc.database.db.selectFrom('recurring_chains').select(['last_error', 'next_check_at_ms']).where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
    assert.match(String(waiting.last_error), /deduplication_conflict/);
    // The client cancels its own bot for the other meeting: the key is free.
    assert.equal((await rc.request('DELETE', `/api/v1/calendar/scheduled_bots/${clients.bot_id}`, { auth: user.auth })).status, 200);
    // The chain looks once a minute while such an occurrence is still to come, the last one too.
    assert.equal(await runAt(Date.parse('2026-11-23T09:58:00Z')), 1, `booked within a minute of the key being freed (next check at ${new Date(Number(waiting.next_check_at_ms)).toISOString()})`);
  });

  test('a resting chain (series ended) that missed a change stamped before its last look and committed after it (a long sync transaction) books within a day', async () => {
    clock.set(NOW);
    const series = await dailySeries(2);
    await post(`${SCHEDULE}/${series.id}`, { deduplication_key: 'rest-race', bot_config: {}, recurring_event: true });
    await runAt(Date.parse('2026-11-23T09:57:00Z'));
    await runAt(Date.parse('2026-11-24T09:57:00Z'));
    // A sync transaction reads its clock at 11:29:57 and commits after the chain rests at 11:30:00.
    const restAt = Date.parse('2026-11-24T11:30:00Z');
    await runAt(restAt);
    const row = await rc.database.db.selectFrom('recurring_chains').select(['last_error']).where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
    assert.equal(row.last_error, 'the series has ended');
    clock.set(restAt - 3_000);
    const extended = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: user.auth, body: { recurrence: ['RRULE:FREQ=DAILY;COUNT=5'] } });
    assert.equal(extended.status, 200, JSON.stringify(extended.body));
    // Stamped past CHANGE_GRACE_MS before the look, the change does not make the chain due; its day's rest ends.
    assert.equal(await runAt(Date.parse('2026-11-25T11:30:00Z')), 1, 'the extended series gets its next bot');
    assert.deepEqual((await chainBots(series.id)).map(([key, , status]) => [key, status]).at(-1), ['20261126T100000Z', 'Scheduled']);
  });

  test('a series whose COUNT ran out is taken as ended whatever its COUNT (101 here, past the 100 counted when it is stored): toggle-recurrence says so and the chain rests', async () => {
    clock.set(NOW);
    const ended = async (count: number) => post(EVENTS, {
      title: 'Old daily', start_time: '2026-07-01T10:00:00Z', end_time: '2026-07-01T10:30:00Z', timezone: 'UTC',
      recurrence: [`RRULE:FREQ=DAILY;COUNT=${count}`], meeting_url: `https://zoom.us/j/${zoomNumber()}`,
    });
    const answers: [number, string, string | null][] = [];
    for (const count of [100, 101]) {
      const series = await ended(count);
      const on = await post(TOGGLE, { event_id: series.id, recurring_enabled: true });
      const row = await rc.database.db.selectFrom('recurring_chains').select(['last_error', 'next_check_at_ms']).where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
      answers.push([count, /the series has ended/.test(on.message) ? 'says ended' : on.message, row.last_error]);
    }
    assert.deepEqual(answers, [[100, 'says ended', 'the series has ended'], [101, 'says ended', 'the series has ended']]);
  });

  test('an UNTIL series with an occurrence moved past its UNTIL is not taken as ended; an RDATE-only series whose dates are past rests, and wakes when a date is added', async () => {
    clock.set(NOW);
    const row = async (id: string) => rc.database.db.selectFrom('recurring_chains').select(['last_error', 'next_check_at_ms']).where('series_event_id', '=', id).executeTakeFirstOrThrow();
    // UNTIL ended 11-24, its 11-24 occurrence moved to 12-01.
    const until = await post(EVENTS, { title: 'U', start_time: '2026-11-10T10:00:00Z', end_time: '2026-11-10T10:30:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;UNTIL=20261124T100000Z'], meeting_url: `https://zoom.us/j/${zoomNumber()}` });
    await post(EVENTS, { recurring_event_id: until.id, original_start_time: '2026-11-24T10:00:00Z', start_time: '2026-12-01T10:00:00Z', end_time: '2026-12-01T10:30:00Z' });
    clock.set(Date.parse('2026-11-25T12:00:00Z'));
    const onUntil = await post(TOGGLE, { event_id: until.id, recurring_enabled: true });
    assert.ok(onUntil.bot_id, JSON.stringify(onUntil));
    // RDATE-only series, last date past.
    clock.set(NOW);
    const rdate = await post(EVENTS, { title: 'R', start_time: '2026-11-02T10:00:00Z', end_time: '2026-11-02T10:30:00Z', timezone: 'UTC', recurrence: ['RDATE:20261105T100000Z'], meeting_url: `https://zoom.us/j/${zoomNumber()}` });
    const onR = await post(TOGGLE, { event_id: rdate.id, recurring_enabled: true });
    assert.match(onR.message, /the series has ended/, JSON.stringify(onR));
    assert.equal((await row(rdate.id)).last_error, 'the series has ended');
    clock.advance(60_000);
    const patched = await rc.request('PATCH', `${EVENTS}/${rdate.id}`, { auth: user.auth, body: { recurrence: ['RDATE:20261105T100000Z,20261127T100000Z'] } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(await runAt(clock.now() + 1_000), 1);
  });

  test('toggle-recurrence with an occurrence id the client got before the series was re-timed names the series: on answers with the occurrence booked, off turns the chain off, answering with the series', async () => {
    clock.set(NOW);
    const series = await weeklySeries(6);
    const occurrenceId = `${series.id}_20261130T100000Z`;
    const on = await post(TOGGLE, { event_id: occurrenceId, recurring_enabled: true });
    assert.ok(on.bot_id);
    clock.advance(60_000);
    const moved = await rc.request('PATCH', `${EVENTS}/${series.id}`, { auth: user.auth, body: { start_time: '2026-11-23T11:00:00Z', end_time: '2026-11-23T11:30:00Z' } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    // On names the series still, and answers with the occurrence its chain has booked, by the id it goes by now.
    const stillOn = await rc.request('POST', TOGGLE, { auth: user.auth, body: { event_id: occurrenceId, recurring_enabled: true } });
    assert.equal(stillOn.status, 200, JSON.stringify(stillOn.body));
    assert.deepEqual([stillOn.body.event_id, stillOn.body.recurring_enabled, stillOn.body.bot_id, stillOn.body.summary, stillOn.body.start_time, stillOn.body.end_time],
      [`${series.id}_20261123T110000Z`, true, (await botOf(series.id, '20261123T110000Z')).id, 'Standup', '2026-11-23T11:00:00.000Z', '2026-11-23T11:30:00.000Z']);
    const off = await rc.request('POST', TOGGLE, { auth: user.auth, body: { event_id: occurrenceId, recurring_enabled: false } });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.deepEqual([off.body.event_id, off.body.recurring_enabled, off.body.summary, off.body.start_time, off.body.end_time],
      [occurrenceId, false, 'Standup', '2026-11-23T11:00:00.000Z', '2026-11-23T11:30:00.000Z']);
    const chain = await rc.database.db.selectFrom('recurring_chains').select('is_enabled').where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
    assert.equal(chain.is_enabled, 0);
  });
});

// Several instances on PostgreSQL; one on SQLite (how SQLite is run), where the passes and
// toggles still race inside the process.
const INSTANCES = TEST_ENGINE === 'postgres' ? 3 : 1;

describe(`chain mode on ${INSTANCES} instance(s)`, () => {
  test('passes and toggles that move the same chains at once book each next occurrence once', async () => {
    const clock = new ManualClock(NOW);
    const testDb = await createTestDatabase();
    const runtime = new FakeHttpReceiver();
    const runtimeUrl = await runtime.start();
    const instances: Rollcall[] = [];
    try {
      for (let i = 0; i < INSTANCES; i++) {
        const config = parseConfig({ DATABASE_URL: testDb.url, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0', BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch` });
        instances.push(await createRollcall(config, { database: await testDb.open(), logger: createLogger('silent'), collectDefaultMetrics: false, clock }));
      }
      const { key } = await createApiKey(instances[0]!.database.db, 'many', clock);
      const call = async (rc: Rollcall, method: string, url: string, payload?: unknown) => {
        const res = await rc.app.inject({ method: method as 'POST', url, headers: { authorization: `Token ${key}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
        return { status: res.statusCode, body: res.json() };
      };
      const seriesIds: string[] = [];
      for (let i = 0; i < 5; i++) {
        const series = await call(instances[i % INSTANCES]!, 'POST', EVENTS, { start_time: '2026-11-23T10:00:00Z', end_time: '2026-11-23T10:30:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=10'], meeting_url: `https://zoom.us/j/${zoomNumber()}` });
        assert.equal((await call(instances[i % INSTANCES]!, 'POST', `${SCHEDULE}/${series.body.id}`, { deduplication_key: `many-${i}`, bot_config: {}, recurring_event: true })).status, 200);
        seriesIds.push(series.body.id);
      }
      clock.set(Date.parse('2026-11-23T09:57:00Z'));
      await instances[0]!.dispatcher.runDue();
      // Every instance, several passes at once, plus toggles on, all racing.
      const results = await Promise.all([
        ...instances.flatMap((rc) => [rc.chains.advance(), rc.chains.advance()]),
        ...seriesIds.map((id, i) => call(instances[i % INSTANCES]!, 'POST', TOGGLE, { event_id: id, recurring_enabled: true })),
      ]);
      const passes = results.slice(0, 2 * INSTANCES) as { booked: number }[];
      const toggles = results.slice(2 * INSTANCES) as { status: number; body: any }[];
      assert.deepEqual(toggles.map((t) => t.status), seriesIds.map(() => 200));
      const bookedByPasses = passes.reduce((n, r) => n + r.booked, 0);
      const bots = await instances[0]!.database.db.selectFrom('bot_events').innerJoin('bots', 'bots.id', 'bot_events.bot_id')
        .select(['bot_events.event_id', 'bot_events.occurrence_key']).where('bots.status', '<>', 'Cancelled').execute();
      for (const id of seriesIds) {
        assert.deepEqual(bots.filter((b) => b.event_id === id).map((b) => b.occurrence_key).sort(), ['20261123T100000Z', '20261124T100000Z'], `series ${id}`);
      }
      assert.ok(bookedByPasses <= 5);
    } finally {
      for (const rc of instances) await rc.close();
      await runtime.stop();
      await testDb.drop();
    }
  });
});

describe('chain mode in real time', () => {
  test('a launch books the next occurrence at once, not at the next poll', async () => {
    const runtime = new FakeHttpReceiver();
    const runtimeUrl = await runtime.start();
    const rc = await startTestRollcall({ background: true, settings: { BOT_RUNTIME: 'http', BOT_RUNTIME_URL: `${runtimeUrl}/launch`, JOIN_LEAD_SECONDS: '0' } });
    try {
      const user = await rc.newUser();
      const start = Math.ceil((Date.now() + 2500) / 1000) * 1000;
      const series = await rc.request('POST', EVENTS, { auth: user.auth, body: { start_time: iso(start), end_time: iso(start + 30 * MINUTE), timezone: 'UTC', recurrence: ['RRULE:FREQ=DAILY;COUNT=3'], meeting_url: `https://zoom.us/j/${zoomNumber()}` } });
      const first = await rc.request('POST', `${SCHEDULE}/${series.body.id}`, { auth: user.auth, body: { deduplication_key: 'live', bot_config: {}, recurring_event: true } });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      await runtime.waitFor(() => runtime.received.some((r) => r.json?.bot_id === first.body.bot_id), 8000);
      const launchedAt = runtime.received.find((r) => r.json?.bot_id === first.body.bot_id)!.at;
      // Wait for the booking itself (the chain loop's poll is five seconds; a launch wakes it).
      let bookedAt = 0;
      for (const deadline = Date.now() + 8000; Date.now() < deadline;) {
        const row = await rc.database.db.selectFrom('bots').select('created_at').where('deduplication_key', '=', `live@${new Date(start + 86_400_000).toISOString().replace(/[-:]/g, '').replace('.000', '')}`).executeTakeFirst();
        if (row) {
          bookedAt = row.created_at;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(bookedAt > 0, 'the next occurrence was booked');
      assert.ok(bookedAt - launchedAt < 2000, `booked ${bookedAt - launchedAt} ms after the launch`);
    } finally {
      await rc.close();
      await runtime.stop();
    }
  });
});

describe('a chain step the server gives up on (PostgreSQL)', { skip: TEST_ENGINE !== 'postgres' ? 'lock_timeout is PostgreSQL\'s' : false }, () => {
  test('a step whose statement meets lock_timeout (55P03) is tried again 30 s later, not parked for an hour, and books then', async () => {
    const clock = new ManualClock(NOW);
    const testDb = await createTestDatabase();
    // Every connection of the service's pool with a 300 ms lock_timeout, as an operator might set
    // on its role (the setting rides on the connection's options after the search path).
    const database = await openDatabase(testDb.url, { searchPath: `${testDb.searchPath!} -c lock_timeout=300` });
    const rc = await createRollcall(parseConfig({ DATABASE_URL: testDb.url, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0' }), { database, logger: createLogger('silent'), collectDefaultMetrics: false, clock });
    const blocker = new pg.Client({ connectionString: testDb.url });
    await blocker.connect();
    try {
      const { key } = await createApiKey(rc.database.db, 'chains', clock);
      const call = async (method: string, url: string, payload: unknown) => {
        const res = await rc.app.inject({ method: method as 'POST', url, headers: { authorization: `Token ${key}` }, payload: payload as object });
        assert.ok(res.statusCode < 300, `${url}: ${res.statusCode} ${res.body}`);
        return res.json();
      };
      const series = await call('POST', EVENTS, { start_time: '2026-11-23T10:00:00Z', end_time: '2026-11-23T10:30:00Z', timezone: 'UTC', recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'], meeting_url: `https://zoom.us/j/${zoomNumber()}` });
      await call('POST', `${SCHEDULE}/${series.id}`, { deduplication_key: 'held', bot_config: {}, recurring_event: true });
      // The first occurrence is over (no runtime launched its bot): the chain is due to book the next.
      clock.set(Date.parse('2026-11-23T10:31:00Z'));
      // Another session holds the bots table against writes: the step's waits for it until the
      // server gives up on the statement (reads, such as finding the due chains, go on).
      await blocker.query('begin');
      await blocker.query(`lock table ${testDb.searchPath!}.bots in exclusive mode`);
      assert.equal((await rc.chains.advance()).booked, 0);
      await blocker.query('rollback');
      const chain = await rc.database.db.selectFrom('recurring_chains').selectAll().where('series_event_id', '=', series.id).executeTakeFirstOrThrow();
      assert.match(chain.last_error ?? '', /^database error: /);
      assert.equal(Number(chain.next_check_at_ms) - clock.now(), 30_000, 'tried again in 30 s, not an hour');
      // Not before then; then it books the next occurrence.
      clock.advance(29_000);
      assert.equal((await rc.chains.advance()).booked, 0);
      clock.advance(1_000);
      assert.equal((await rc.chains.advance()).booked, 1);
      const booked = await rc.database.db.selectFrom('bots').select('deduplication_key').orderBy('join_at_ms').execute();
      assert.deepEqual(booked.map((b) => b.deduplication_key), ['held@20261123T100000Z', 'held@20261130T100000Z']);
    } finally {
      await blocker.end();
      await rc.close();
      await testDb.drop();
    }
  });
});
