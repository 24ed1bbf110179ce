// The Webhooks page's banners: one per URL with something to tell, the worst first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countsWords, urlBanners } from './webhook-url-words.ts';
import type { WebhookUrl } from './types.ts';

const url = (fields: Partial<WebhookUrl> & Pick<WebhookUrl, 'url'>): WebhookUrl => ({
  state: 'ok', failing_since: null, last_failure_at: null, paused_until: null, disabled_at: null, reopen_delivery_id: null,
  waiting: 0, failed_unsent: 0, gone_bots: 0, gone_lines: [], last_queued_at: null, ...fields,
});

test('a banner for a disabled URL (with the message to redeliver), a paused one, and one with gone lines; none for a URL that is ok', () => {
  const banners = urlBanners([
    url({ url: 'https://a.example/dead', state: 'disabled', reopen_delivery_id: 'msg_dead', gone_bots: 2, gone_lines: [{ bot_id: 'bot_1', delivery_id: 'msg_gone' }] }),
    url({ url: 'https://a.example/busy', state: 'paused', reopen_delivery_id: 'msg_busy' }),
    url({ url: 'https://a.example/gone', gone_bots: 2, gone_lines: [{ bot_id: 'bot_1', delivery_id: 'msg_g1' }, { bot_id: 'bot_2', delivery_id: 'msg_g2' }] }),
    url({ url: 'https://a.example/failing', failing_since: '2026-12-01T09:00:00.000Z', reopen_delivery_id: 'msg_f' }),
    url({ url: 'https://a.example/fine' }),
  ]);
  assert.deepEqual(banners.map(({ url: u, banner }) => [u.url, banner]), [
    ['https://a.example/dead', { kind: 'disabled', title: 'Disabled', reopenDeliveryId: 'msg_dead' }],
    ['https://a.example/busy', { kind: 'paused', title: 'Paused', reopenDeliveryId: null }],
    ['https://a.example/gone', { kind: 'gone', title: 'Gone for 2 bots', reopenDeliveryId: 'msg_g1' }],
  ]);
});

test('the counts said: waiting and not sent, only those there are', () => {
  assert.equal(countsWords({ waiting: 0, failed_unsent: 0 }), '');
  assert.equal(countsWords({ waiting: 1, failed_unsent: 0 }), '1 webhook waiting');
  assert.equal(countsWords({ waiting: 3, failed_unsent: 2 }), '3 webhooks waiting, 2 webhooks not sent');
});
