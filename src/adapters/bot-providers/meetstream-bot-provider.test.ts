import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { parseMeetStreamWebhook } from './meetstream-bot-provider.ts';

const SECRET = 'meetstream-webhook-secret';

function delivery(body: Record<string, unknown>) {
  const raw = JSON.stringify(body);
  const headers = { 'x-meetstream-signature': `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}` };
  const parsed = parseMeetStreamWebhook(SECRET, headers, raw);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  assert.ok(parsed.event);
  return parsed.event;
}

// The envelope (reference meetstream.md 6.2): `event` is the generic name, bot.stopped on every
// ending; `bot_event` names the specific one; bot_status is the status. Not every delivery has
// bot_event (MeetStream's plugin webhooks guide), and the older envelope had only `event`.
test('an ending is read from bot_event, else from bot_status when event is only the generic bot.stopped', () => {
  assert.equal(delivery({ event: 'bot.stopped', bot_event: 'bot.notallowed', bot_id: 'b1', bot_status: 'NotAllowed' }).status, 'NotAllowed');
  assert.equal(delivery({ event: 'bot.stopped', bot_id: 'b1', bot_status: 'NotAllowed' }).status, 'NotAllowed');
  assert.equal(delivery({ event: 'bot.stopped', bot_id: 'b1', bot_status: 'Denied' }).status, 'Denied');
  assert.equal(delivery({ event: 'bot.stopped', bot_id: 'b1', bot_status: 'ERROR' }).status, 'Error');
  assert.equal(delivery({ event: 'bot.stopped', bot_id: 'b1', bot_status: 'Stopped' }).status, 'Stopped');
  // A bot_status lagging behind names no ending: the delivery is the ending its event says.
  assert.equal(delivery({ event: 'bot.stopped', bot_id: 'b1', bot_status: 'InMeeting' }).status, 'Stopped');
  // The older envelope's specific names in `event`.
  assert.equal(delivery({ event: 'bot.denied', bot_id: 'b1', bot_status: 'Denied' }).status, 'Denied');
  assert.equal(delivery({ event: 'bot.inmeeting', bot_id: 'b1', bot_status: 'InMeeting' }).status, 'InMeeting');
  // The host removed it: Stopped, and said so.
  const kicked = delivery({ event: 'bot.stopped', bot_event: 'bot.kicked', bot_id: 'b1', bot_status: 'Stopped' });
  assert.deepEqual([kicked.status, kicked.kicked], ['Stopped', true]);
});

test('the Rollcall bot id the delivery\'s attributes show, and the provider\'s time', () => {
  assert.equal(delivery({ event: 'bot.inmeeting', bot_id: 'b1', bot_status: 'InMeeting', custom_attributes: { rollcall_bot_id: 'bot_1' } }).rollcallBotId, 'bot_1');
  assert.equal(delivery({ event: 'bot.inmeeting', bot_id: 'b1', bot_status: 'InMeeting', custom_attributes: {} }).rollcallBotId, null);
  assert.equal('rollcallBotId' in delivery({ event: 'bot.inmeeting', bot_id: 'b1', bot_status: 'InMeeting' }), false);
  assert.equal(delivery({ event: 'bot.inmeeting', bot_id: 'b1', bot_status: 'InMeeting', timestamp: '2026-02-27T07:11:51.863543+00:00' }).occurredAtMs, Date.parse('2026-02-27T07:11:51.863Z'));
});
