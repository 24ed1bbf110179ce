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
  // The older envelope's specific names in `event`.
  assert.equal(delivery({ event: 'bot.denied', bot_id: 'b1', bot_status: 'Denied' }).status, 'Denied');
  assert.equal(delivery({ event: 'bot.inmeeting', bot_id: 'b1', bot_status: 'InMeeting' }).status, 'InMeeting');
  // The host removed it: Stopped, and said so.
  const kicked = delivery({ event: 'bot.stopped', bot_event: 'bot.kicked', bot_id: 'b1', bot_status: 'Stopped' });
  assert.deepEqual([kicked.status, kicked.kicked], ['Stopped', true]);
});
