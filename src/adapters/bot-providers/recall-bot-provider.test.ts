import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { parseRecallWebhook } from './recall-bot-provider.ts';

const SECRET = `whsec_${Buffer.from('recall-unit-secret-0123456789').toString('base64')}`;
const verifier = new Webhook(SECRET);

function delivery(payload: Record<string, unknown>) {
  const raw = JSON.stringify(payload);
  const id = `msg_${Math.random().toString(36).slice(2)}`;
  const at = new Date();
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': verifier.sign(id, at, raw) };
  const parsed = parseRecallWebhook(verifier, headers, raw);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  assert.ok(parsed.event);
  return parsed.event;
}

// The current shape carries the time of the change as data.data.updated_at
// (https://docs.recall.ai/docs/bot-status-change-events); the older bot.status_change one as
// data.status.created_at (https://docs.recall.ai/v1.10/docs/bot-status-change-events). Either way
// it orders deliveries that arrive out of order.
test('the time of the change is read from either shape', () => {
  const current = delivery({ event: 'bot.in_call_recording', data: { data: { code: 'in_call_recording', sub_code: null, updated_at: '2026-12-05T09:00:01.250Z' }, bot: { id: 'b1', metadata: { rollcall_bot_id: 'bot_1' } } } });
  assert.deepEqual([current.status, current.occurredAtMs, current.rollcallBotId], ['Recording', Date.parse('2026-12-05T09:00:01.250Z'), 'bot_1']);
  const older = delivery({ event: 'bot.status_change', data: { bot_id: 'b1', status: { code: 'in_call_recording', created_at: '2026-12-05T09:00:02.500Z', sub_code: null, message: null } } });
  assert.deepEqual([older.status, older.occurredAtMs], ['Recording', Date.parse('2026-12-05T09:00:02.500Z')]);
});

// Recall's other events reach the same endpoint, some in the bot events' very shape
// (https://docs.recall.ai/docs/recording-webhooks): a recording done is not the bot done.
test('events that are not bot.* are acknowledged and change no status: recording.done, transcript.done, calendar.update', () => {
  const bot = { id: 'b1', metadata: { rollcall_bot_id: 'bot_1' } };
  for (const payload of [
    { event: 'recording.done', data: { data: { code: 'done', sub_code: null, updated_at: '2026-12-05T10:00:00Z' }, recording: { id: 'rec_1', metadata: {} }, bot } },
    { event: 'transcript.done', data: { data: { code: 'done', sub_code: null, updated_at: '2026-12-05T10:00:00Z' }, transcript: { id: 't1', metadata: {} }, bot } },
    { event: 'calendar.update', data: { calendar_id: 'cal_1' } },
  ]) {
    const raw = JSON.stringify(payload);
    const at = new Date();
    const parsed = parseRecallWebhook(verifier, { 'webhook-id': 'msg_other', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': verifier.sign('msg_other', at, raw) }, raw);
    assert.deepEqual(parsed, { ok: true, event: null }, payload.event);
  }
  // A bot event of the same shape is still read.
  assert.equal(delivery({ event: 'bot.done', data: { data: { code: 'done', sub_code: null, updated_at: '2026-12-05T10:00:00Z' }, bot } }).status, 'Done');
});
