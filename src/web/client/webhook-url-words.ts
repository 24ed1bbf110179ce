// What the Webhooks page says of a callback URL in trouble (GET /webhooks/urls): a disabled one,
// a paused one, one some bots' lines to which are gone. Times stay as the API's ISO instants here;
// the banner writes them in the viewer's zone.
import { countOf } from './format.ts';
import type { GoneLine, WebhookUrl } from './types.ts';

export interface UrlBanner {
  kind: 'disabled' | 'paused' | 'gone';
  /** Its first words, the state in one word or two. */
  title: string;
  /** The message whose redelivery (taken by the receiver) opens it again; null when none is offered. */
  reopenDeliveryId: string | null;
  /** A gone banner's line, the one its button opens (the first by bot id); null for the others. */
  goneLine: GoneLine | null;
}

/** The URLs with something to tell, the worst first (the API's order), each once: disabled, paused, else gone lines. */
export function urlBanners(urls: readonly WebhookUrl[]): { url: WebhookUrl; banner: UrlBanner }[] {
  const banners: { url: WebhookUrl; banner: UrlBanner }[] = [];
  for (const url of urls) {
    if (url.state === 'disabled') banners.push({ url, banner: { kind: 'disabled', title: 'Disabled', reopenDeliveryId: url.reopen_delivery_id, goneLine: null } });
    else if (url.state === 'paused') banners.push({ url, banner: { kind: 'paused', title: 'Paused', reopenDeliveryId: null, goneLine: null } });
    else if (url.gone_bots > 0) {
      const line = url.gone_lines[0] ?? null;
      banners.push({ url, banner: { kind: 'gone', title: `Gone for ${goneCountWords(url)}`, reopenDeliveryId: line?.delivery_id ?? null, goneLine: line } });
    }
  }
  return banners;
}

/**
 * Whether a gone line is a calendar connection's rather than a bot's: a connection's own webhooks
 * (calendar.auth_revoked, calendar.sync_failing, calendar.sync_restored) are queued under its id
 * (cal_…) where a bot's are under the bot's, and may go to its bots' callback URLs, so a 410 to
 * one closes the connection's line.
 */
export function isConnectionLine(line: Pick<GoneLine, 'bot_id'>): boolean {
  return line.bot_id.startsWith('cal_');
}

/** Whose a gone line is, as a gone banner names it: a bot by its meeting's title and its id, or its id alone; a calendar connection by its id. */
export function lineWords(line: Pick<GoneLine, 'bot_id' | 'meeting_title'>): string {
  if (isConnectionLine(line)) return `calendar connection ${line.bot_id}`;
  return line.meeting_title === '' ? `bot ${line.bot_id}` : `the bot of “${line.meeting_title}” (${line.bot_id})`;
}

/**
 * How many lines to a URL are gone, by whose they are: "1 bot", "2 bots and 1 calendar connection".
 * Only the listed lines (up to ten) are known by kind: when more are gone, "12 bots or calendar
 * connections".
 */
export function goneCountWords(url: Pick<WebhookUrl, 'gone_bots' | 'gone_lines'>): string {
  if (url.gone_lines.length < url.gone_bots) return `${url.gone_bots} bots or calendar connections`;
  const connections = url.gone_lines.filter(isConnectionLine).length;
  const bots = url.gone_bots - connections;
  if (connections === 0) return countOf(bots, 'bot');
  return [bots > 0 ? countOf(bots, 'bot') : '', countOf(connections, 'calendar connection')].filter((w) => w !== '').join(' and ');
}

/** The accessible name of a banner's Redeliver button: what it opens. */
export function redeliverLabel(url: WebhookUrl, banner: UrlBanner): string {
  const id = banner.reopenDeliveryId ?? '';
  if (banner.kind === 'gone' && banner.goneLine) return `Redeliver ${id} to open the line of ${lineWords(banner.goneLine)} to ${url.url} again`;
  return `Redeliver ${id} to open ${url.url} again`;
}

/**
 * What a disabled URL's banner offers to redeliver when the URL's record names no webhook (those
 * it failed were deleted with their bots' data): any webhook to it given up unsent, from the list;
 * with none among them, the next one queued for it, which is given up unsent as soon as its turn
 * comes, naming itself. There is no button then: the banner's words say which to pick.
 */
export function unnamedReopenWords(url: Pick<WebhookUrl, 'failed_unsent'>): string {
  const why = 'the ones it failed were deleted with their bots\' data';
  if (url.failed_unsent > 0) return `any webhook to it given up unsent, from the list below (${why})`;
  return `the next webhook to it, given up unsent as soon as its turn comes, from the list below (${why}, and none to it is left)`;
}

/** What the page says once a banner's redelivery is asked for: what opens, and when. */
export function redeliveryAskedWords(url: WebhookUrl, banner: UrlBanner): string {
  const id = banner.reopenDeliveryId ?? '';
  if (banner.kind === 'gone' && banner.goneLine) return `${id} is being sent again; once its receiver takes it, the webhooks of ${lineWords(banner.goneLine)} go to ${url.url} again (${isConnectionLine(banner.goneLine) ? 'other lines' : 'other bots\' lines'} stay closed).`;
  return `${id} is being sent again; ${url.url} opens again once its receiver takes it.`;
}

/** What the page says once what a redelivery was to open is open. */
export function reopenedWords(urlText: string, banner: UrlBanner): string {
  const id = banner.reopenDeliveryId ?? '';
  if (banner.kind === 'gone' && banner.goneLine) return `The webhooks of ${lineWords(banner.goneLine)} go to ${urlText} again: its receiver took ${id}.`;
  return `${urlText} is open again: its receiver took ${id}.`;
}

/**
 * Whether what a banner's redelivery was to open is open, in the URLs read since: the URL no
 * longer disabled, or the bot's line no longer gone. (Gone lines are listed by bot id, ten per URL,
 * and the banner names the first: one that is still gone is still listed.)
 */
export function isReopened(urls: readonly WebhookUrl[], urlText: string, banner: UrlBanner): boolean {
  const url = urls.find((u) => u.url === urlText);
  if (url === undefined) return true;
  if (banner.kind === 'gone') return !url.gone_lines.some((l) => l.bot_id === banner.goneLine?.bot_id);
  return url.state !== 'disabled';
}

/** "3 webhooks not sent" and the like: the counts worth saying, or ''. */
export function countsWords(url: Pick<WebhookUrl, 'waiting' | 'failed_unsent'>): string {
  const parts: string[] = [];
  if (url.waiting > 0) parts.push(`${countOf(url.waiting, 'webhook')} waiting`);
  if (url.failed_unsent > 0) parts.push(`${countOf(url.failed_unsent, 'webhook')} not sent`);
  return parts.join(', ');
}
