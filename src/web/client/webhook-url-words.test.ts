// The Webhooks page's banners: one per URL with something to tell, the worst first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countsWords, goneCountWords, isReopened, redeliverLabel, redeliveryAskedWords, reopenedWords, unnamedReopenWords, urlBanners } from './webhook-url-words.ts';
import type { WebhookUrl } from './types.ts';

const url = (fields: Partial<WebhookUrl> & Pick<WebhookUrl, 'url'>): WebhookUrl => ({
  state: 'ok', paced: false, failing_since: null, last_failure_at: null, paused_until: null, disabled_at: null, reopen_delivery_id: null,
  waiting: 0, failed_unsent: 0, gone_bots: 0, gone_lines: [], last_queued_at: null, ...fields,
});

test('a banner for a disabled URL (with the message to redeliver), a paused one, and one with gone lines; none for a URL that is ok', () => {
  const banners = urlBanners([
    url({ url: 'https://a.example/dead', state: 'disabled', reopen_delivery_id: 'msg_dead', gone_bots: 2, gone_lines: [{ bot_id: 'bot_1', meeting_title: 'Standup', delivery_id: 'msg_gone' }] }),
    url({ url: 'https://a.example/busy', state: 'paused', reopen_delivery_id: 'msg_busy' }),
    url({ url: 'https://a.example/gone', gone_bots: 2, gone_lines: [{ bot_id: 'bot_1', meeting_title: 'Standup', delivery_id: 'msg_g1' }, { bot_id: 'bot_2', meeting_title: '', delivery_id: 'msg_g2' }] }),
    url({ url: 'https://a.example/failing', failing_since: '2026-12-01T09:00:00.000Z', reopen_delivery_id: 'msg_f' }),
    url({ url: 'https://a.example/fine' }),
  ]);
  assert.deepEqual(banners.map(({ url: u, banner }) => [u.url, banner]), [
    ['https://a.example/dead', { kind: 'disabled', title: 'Disabled', reopenDeliveryId: 'msg_dead', goneLine: null }],
    ['https://a.example/busy', { kind: 'paused', title: 'Paused', reopenDeliveryId: null, goneLine: null }],
    ['https://a.example/gone', { kind: 'gone', title: 'Gone for 2 bots', reopenDeliveryId: 'msg_g1', goneLine: { bot_id: 'bot_1', meeting_title: 'Standup', delivery_id: 'msg_g1' } }],
  ]);
});

test('the counts said: waiting and not sent, only those there are', () => {
  assert.equal(countsWords({ waiting: 0, failed_unsent: 0 }), '');
  assert.equal(countsWords({ waiting: 1, failed_unsent: 0 }), '1 webhook waiting');
  assert.equal(countsWords({ waiting: 3, failed_unsent: 2 }), '3 webhooks waiting, 2 webhooks not sent');
});

test('a gone banner\'s button, notice and reopening speak of its bot\'s line alone; a disabled one\'s of the URL', () => {
  const dead = url({ url: 'https://a.example/dead', state: 'disabled', reopen_delivery_id: 'msg_dead' });
  const gone = url({ url: 'https://a.example/gone', gone_bots: 2, gone_lines: [{ bot_id: 'bot_1', meeting_title: 'Standup', delivery_id: 'msg_g1' }, { bot_id: 'bot_2', meeting_title: '', delivery_id: 'msg_g2' }] });
  const [[, deadBanner], [, goneBanner]] = urlBanners([dead, gone]).map((b) => [b.url, b.banner] as const);
  assert.equal(redeliverLabel(dead, deadBanner!), 'Redeliver msg_dead to open https://a.example/dead again');
  assert.equal(redeliverLabel(gone, goneBanner!), 'Redeliver msg_g1 to open the line of the bot of “Standup” (bot_1) to https://a.example/gone again');
  assert.equal(redeliveryAskedWords(dead, deadBanner!), 'msg_dead is being sent again; https://a.example/dead opens again once its receiver takes it.');
  assert.equal(redeliveryAskedWords(gone, goneBanner!), 'msg_g1 is being sent again; once its receiver takes it, the webhooks of the bot of “Standup” (bot_1) go to https://a.example/gone again (other bots\' lines stay closed).');
  assert.equal(reopenedWords(gone.url, goneBanner!), 'The webhooks of the bot of “Standup” (bot_1) go to https://a.example/gone again: its receiver took msg_g1.');
  assert.equal(reopenedWords(dead.url, deadBanner!), 'https://a.example/dead is open again: its receiver took msg_dead.');
  // Open: the disabled URL once it is not disabled; the gone line once its bot is no longer listed, whatever the other bot's.
  assert.equal(isReopened([dead], dead.url, deadBanner!), false);
  assert.equal(isReopened([{ ...dead, state: 'ok' }], dead.url, deadBanner!), true);
  assert.equal(isReopened([gone], gone.url, goneBanner!), false);
  assert.equal(isReopened([{ ...gone, gone_bots: 1, gone_lines: [gone.gone_lines[1]!] }], gone.url, goneBanner!), true);
  assert.equal(isReopened([], gone.url, goneBanner!), true);
});

test('a calendar connection\'s gone line is named as the connection, not as a bot; the count says whose lines are gone', () => {
  const line = { bot_id: 'cal_1', meeting_title: '', delivery_id: 'msg_c1' };
  const gone = url({ url: 'https://a.example/gone', gone_bots: 1, gone_lines: [line] });
  const [[, banner]] = urlBanners([gone]).map((b) => [b.url, b.banner] as const);
  assert.equal(banner!.title, 'Gone for 1 calendar connection');
  assert.equal(redeliverLabel(gone, banner!), 'Redeliver msg_c1 to open the line of calendar connection cal_1 to https://a.example/gone again');
  assert.equal(redeliveryAskedWords(gone, banner!), 'msg_c1 is being sent again; once its receiver takes it, the webhooks of calendar connection cal_1 go to https://a.example/gone again (other lines stay closed).');
  assert.equal(reopenedWords(gone.url, banner!), 'The webhooks of calendar connection cal_1 go to https://a.example/gone again: its receiver took msg_c1.');
  const bot = { bot_id: 'bot_1', meeting_title: 'Standup', delivery_id: 'msg_b1' };
  assert.equal(goneCountWords({ gone_bots: 3, gone_lines: [line, bot, { ...bot, bot_id: 'bot_2' }] }), '2 bots and 1 calendar connection');
  assert.equal(goneCountWords({ gone_bots: 2, gone_lines: [line, { ...line, bot_id: 'cal_2' }] }), '2 calendar connections');
  assert.equal(goneCountWords({ gone_bots: 2, gone_lines: [bot, { ...bot, bot_id: 'bot_2' }] }), '2 bots');
  assert.equal(goneCountWords({ gone_bots: 12, gone_lines: Array.from({ length: 10 }, (_, i) => ({ ...bot, bot_id: `bot_${i}` })) }), '12 bots or calendar connections', 'beyond the ten listed, their kinds unknown');
});

test('a disabled URL whose record names no webhook (reopen_delivery_id null): no webhook named, the words say which to redeliver', () => {
  const given = url({ url: 'https://a.example/dead', state: 'disabled', reopen_delivery_id: null, failed_unsent: 2 });
  const [[, banner]] = urlBanners([given]).map((b) => [b.url, b.banner] as const);
  assert.equal(banner!.reopenDeliveryId, null, 'no button: nothing to name');
  assert.equal(unnamedReopenWords(given), 'any webhook to it given up unsent, from the list below (the ones it failed were deleted with their bots\' data)');
  // None given up unsent yet: the next one queued for it is, at once, naming itself.
  assert.equal(unnamedReopenWords({ failed_unsent: 0 }), 'the next webhook to it, given up unsent as soon as its turn comes, from the list below (the ones it failed were deleted with their bots\' data, and none to it is left)');
});
