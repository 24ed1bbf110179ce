// Which chains the chain loop looks at (src/store/chain-store.ts, listDueChains): a chain told to
// wait is due again early when its series changed after it looked, an Outlook series (no row of
// its own) through its instances.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { carryChain, findChain, listDueChains } from '../../src/store/chain-store.ts';
import { instanceSeriesId } from '../../src/domain/instance-series.ts';
import { startTestRollcall, type TestRollcall } from '../support/harness.ts';

const NOW = Date.parse('2026-11-20T09:00:00Z');

describe('chains due for a look', () => {
  let rc: TestRollcall;
  let user: { auth: string; userId: string };

  before(async () => {
    rc = await startTestRollcall({});
    user = await rc.newUser('chains');
  });
  after(async () => rc.close());

  async function waitingChain(seriesId: string, lookedAtMs: number, options: { botId?: string } = {}): Promise<void> {
    await rc.database.db.insertInto('recurring_chains').values({
      series_event_id: seriesId, user_id: user.userId, is_enabled: 1, deduplication_key: 'k', bot_config: '{}',
      // By default its last bot is gone (launched and over): only the wait holds it back.
      current_bot_id: options.botId ?? 'bot_long_gone', current_occurrence_key: '20261101T090000Z',
      next_check_at_ms: options.botId ? null : NOW + 3_600_000, last_error: options.botId ? null : 'no upcoming occurrence to book',
      created_at: lookedAtMs, updated_at: lookedAtMs,
    }).execute();
  }

  async function instance(seriesOf: { calendarId: string; providerSeriesId: string } | null, updatedAtMs: number): Promise<string> {
    const created = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { title: 'Weekly', start_time: '2026-11-27T09:00:00Z', end_time: '2026-11-27T10:00:00Z' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await rc.database.db.updateTable('events').set({ updated_at: updatedAtMs, ...(seriesOf ? { calendar_id: seriesOf.calendarId, provider_series_id: seriesOf.providerSeriesId } : {}) }).where('id', '=', created.body.id).execute();
    return created.body.id;
  }

  test('a waiting chain is due when its series, an override of it, or (Outlook) one of its instances changed after it looked; not for older changes', async () => {
    const looked = NOW - 60_000;
    // A series with a row, changed after the chain looked.
    const series = await instance(null, NOW - 10_000);
    await waitingChain(series, looked);
    // An Outlook series: its chain is named after the instances' connection and series.
    const outlook = { calendarId: 'cal_outlook', providerSeriesId: 'AAMkSeriesMaster==' };
    await waitingChain(instanceSeriesId(outlook), looked);
    const olderOutlook = { calendarId: 'cal_outlook', providerSeriesId: 'AAMkOtherMaster==' };
    await waitingChain(instanceSeriesId(olderOutlook), looked);
    await instance(outlook, NOW - 5_000);
    await instance(olderOutlook, looked - 5_000);
    const due = await listDueChains(rc.database.db, rc.database.engine, NOW, 100);
    assert.deepEqual(due.filter((id) => [series, instanceSeriesId(outlook), instanceSeriesId(olderOutlook)].includes(id)).sort(), [series, instanceSeriesId(outlook)].sort());
    // Looked at again after the change: waiting once more.
    await rc.database.db.updateTable('recurring_chains').set({ updated_at: NOW }).execute();
    assert.deepEqual((await listDueChains(rc.database.db, rc.database.engine, NOW, 100)).filter((id) => id === series || id.startsWith('instances:')), []);
  });

  test('a chain whose booked bot waits is due only when its series (or an Outlook series\' instance) changed after it looked', async () => {
    const looked = NOW - 60_000;
    const meeting = await rc.request('POST', '/api/v1/calendar/events', { auth: user.auth, body: { start_time: '2027-03-01T09:00:00Z', end_time: '2027-03-01T10:00:00Z', meeting_url: 'https://zoom.us/j/85550002222' } });
    const scheduled = await rc.request('POST', `/api/v1/calendar/schedule/${meeting.body.id}`, { auth: user.auth, body: { deduplication_key: 'waiting', bot_config: {} } });
    assert.ok(scheduled.status < 300, JSON.stringify(scheduled.body));
    const waiting = { botId: scheduled.body.bot_id as string };
    const changed = await instance(null, NOW - 10_000);
    const unchanged = await instance(null, looked - 10_000);
    const outlook = { calendarId: 'cal_waiting', providerSeriesId: 'AAMk:With:Colons==' };
    const olderOutlook = { calendarId: 'cal_waiting', providerSeriesId: 'AAMk:Older==' };
    for (const id of [changed, unchanged, instanceSeriesId(outlook), instanceSeriesId(olderOutlook)]) await waitingChain(id, looked, waiting);
    await instance(outlook, NOW - 5_000);
    await instance(olderOutlook, looked - 5_000);
    const ours = [changed, unchanged, instanceSeriesId(outlook), instanceSeriesId(olderOutlook)];
    const due = await listDueChains(rc.database.db, rc.database.engine, NOW, 100);
    assert.deepEqual(due.filter((id) => ours.includes(id)).sort(), [changed, instanceSeriesId(outlook)].sort());
    await rc.database.db.updateTable('recurring_chains').set({ updated_at: NOW }).where('series_event_id', 'in', ours).execute();
    assert.deepEqual((await listDueChains(rc.database.db, rc.database.engine, NOW, 100)).filter((id) => ours.includes(id)), []);
  });

  test('a chain carried into a split\'s continuation keeps its bot and place, not the slots it served in the old series nor the occurrences it passed there', async () => {
    const old = instanceSeriesId({ calendarId: 'cal_split', providerSeriesId: 'AAMk_old=' });
    const continuation = instanceSeriesId({ calendarId: 'cal_split', providerSeriesId: 'AAMk_new=' });
    await waitingChain(old, NOW - 60_000);
    await rc.database.db.updateTable('recurring_chains').set({ served_slots: JSON.stringify([[NOW - 7 * 86_400_000, 'bot_week_1'], [NOW, 'bot_long_gone']]), passed_keys: JSON.stringify(['evt_passed']) }).where('series_event_id', '=', old).execute();
    await carryChain(rc.database.db, old, continuation, NOW);
    const carried = await findChain(rc.database.db, continuation);
    assert.deepEqual([carried?.current_bot_id, carried?.current_occurrence_key, carried?.served_slots, carried?.passed_keys], ['bot_long_gone', '20261101T090000Z', null, null]);
    assert.equal((await findChain(rc.database.db, old))?.served_slots, JSON.stringify([[NOW - 7 * 86_400_000, 'bot_week_1'], [NOW, 'bot_long_gone']]));
  });
});
