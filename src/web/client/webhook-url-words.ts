// What the Webhooks page says of a callback URL in trouble (GET /webhooks/urls): a disabled one,
// a paused one, one some bots' lines to which are gone. Times stay as the API's ISO instants here;
// the banner writes them in the viewer's zone.
import { countOf } from './format.ts';
import type { WebhookUrl } from './types.ts';

export interface UrlBanner {
  kind: 'disabled' | 'paused' | 'gone';
  /** Its first words, the state in one word or two. */
  title: string;
  /** The message whose redelivery (taken by the receiver) opens it again; null when none is offered. */
  reopenDeliveryId: string | null;
}

/** The URLs with something to tell, the worst first (the API's order), each once: disabled, paused, else gone lines. */
export function urlBanners(urls: readonly WebhookUrl[]): { url: WebhookUrl; banner: UrlBanner }[] {
  const banners: { url: WebhookUrl; banner: UrlBanner }[] = [];
  for (const url of urls) {
    if (url.state === 'disabled') banners.push({ url, banner: { kind: 'disabled', title: 'Disabled', reopenDeliveryId: url.reopen_delivery_id } });
    else if (url.state === 'paused') banners.push({ url, banner: { kind: 'paused', title: 'Paused', reopenDeliveryId: null } });
    else if (url.gone_bots > 0) banners.push({ url, banner: { kind: 'gone', title: `Gone for ${countOf(url.gone_bots, 'bot')}`, reopenDeliveryId: url.gone_lines[0]?.delivery_id ?? null } });
  }
  return banners;
}

/** "3 webhooks not sent" and the like: the counts worth saying, or ''. */
export function countsWords(url: Pick<WebhookUrl, 'waiting' | 'failed_unsent'>): string {
  const parts: string[] = [];
  if (url.waiting > 0) parts.push(`${countOf(url.waiting, 'webhook')} waiting`);
  if (url.failed_unsent > 0) parts.push(`${countOf(url.failed_unsent, 'webhook')} not sent`);
  return parts.join(', ');
}
