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
      banners.push({ url, banner: { kind: 'gone', title: `Gone for ${countOf(url.gone_bots, 'bot')}`, reopenDeliveryId: line?.delivery_id ?? null, goneLine: line } });
    }
  }
  return banners;
}

/** A bot as a gone banner names it: its meeting's title and its id, or its id alone. */
export function botWords(line: Pick<GoneLine, 'bot_id' | 'meeting_title'>): string {
  return line.meeting_title === '' ? `bot ${line.bot_id}` : `the bot of “${line.meeting_title}” (${line.bot_id})`;
}

/** The accessible name of a banner's Redeliver button: what it opens. */
export function redeliverLabel(url: WebhookUrl, banner: UrlBanner): string {
  const id = banner.reopenDeliveryId ?? '';
  if (banner.kind === 'gone' && banner.goneLine) return `Redeliver ${id} to open the line of ${botWords(banner.goneLine)} to ${url.url} again`;
  return `Redeliver ${id} to open ${url.url} again`;
}

/** What the page says once a banner's redelivery is asked for: what opens, and when. */
export function redeliveryAskedWords(url: WebhookUrl, banner: UrlBanner): string {
  const id = banner.reopenDeliveryId ?? '';
  if (banner.kind === 'gone' && banner.goneLine) return `${id} is being sent again; once its receiver takes it, the webhooks of ${botWords(banner.goneLine)} go to ${url.url} again (other bots' lines stay closed).`;
  return `${id} is being sent again; ${url.url} opens again once its receiver takes it.`;
}

/** What the page says once what a redelivery was to open is open. */
export function reopenedWords(urlText: string, banner: UrlBanner): string {
  const id = banner.reopenDeliveryId ?? '';
  if (banner.kind === 'gone' && banner.goneLine) return `The webhooks of ${botWords(banner.goneLine)} go to ${urlText} again: its receiver took ${id}.`;
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
