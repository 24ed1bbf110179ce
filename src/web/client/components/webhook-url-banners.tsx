// A banner per callback URL in trouble, above the deliveries: disabled (since when, what it means,
// the message to redeliver to open it again, with a button that does), paused (until when), or
// gone for some bots (a 410). GET /webhooks/urls says how each URL stands.
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { formatRelative } from '../format.ts';
import type { WebhookUrl } from '../types.ts';
import { countsWords, urlBanners, type UrlBanner } from '../webhook-url-words.ts';
import { LocalTime } from './local-time.tsx';
import { Notice } from './states.tsx';

function Explanation({ url, banner }: { url: WebhookUrl; banner: UrlBanner }) {
  const counts = countsWords(url);
  if (banner.kind === 'disabled') {
    return (
      <p>
        Every attempt to send to it has failed since {url.failing_since ? <LocalTime iso={url.failing_since} /> : 'days ago'}, so it was disabled{url.disabled_at && <> <LocalTime iso={url.disabled_at} /></>}: its webhooks now fail without being sent{counts && ` (${counts})`}.
        {' '}Once its receiver works again, redeliver <code>{banner.reopenDeliveryId}</code>: when the receiver takes it, the URL opens again. The webhooks not sent meanwhile are not sent by themselves; redeliver those you want from the list below.
      </p>
    );
  }
  if (banner.kind === 'paused') {
    return (
      <p>
        Its receiver asked for a pause or could not take webhooks: nothing is sent to it until {url.paused_until ? <><LocalTime iso={url.paused_until} /> ({formatRelative(url.paused_until)})</> : 'its pause ends'}, then one webhook at a time until one is taken{counts && ` (${counts})`}.
        {url.failing_since && <> Failing since <LocalTime iso={url.failing_since} />.</>}
      </p>
    );
  }
  return (
    <p>
      Its receiver answered 410 Gone: the webhooks of {url.gone_bots === 1 ? 'that bot' : 'those bots'} to it fail without being sent{counts && ` (${counts})`}. Redeliver the webhook it refused{url.gone_bots > 1 ? ' (one per bot)' : ''}, <code>{banner.reopenDeliveryId}</code>{url.gone_bots > 1 ? ' for the first' : ''}: when the receiver takes it, the bot's webhooks go to it again.
    </p>
  );
}

/** `onChanged`: a redelivery was asked for; the page reads its lists again. */
export function WebhookUrlBanners({ urls, onChanged }: { urls: readonly WebhookUrl[]; onChanged: () => void }) {
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const banners = urlBanners(urls);
  // Busy, the button says so without being disabled: a disabled button would drop the keyboard focus it has.
  const redeliver = async (deliveryId: string) => {
    if (busy === deliveryId) return;
    setBusy(deliveryId);
    try {
      await api.post(`/webhooks/deliveries/${encodeURIComponent(deliveryId)}/redeliver`);
      setNotice({ kind: 'ok', text: `${deliveryId} is being sent again; the address opens again once its receiver takes it.` });
      onChanged();
    } catch (error) {
      setNotice({ kind: 'error', text: `Redelivery failed: ${(error as Error).message}` });
    } finally {
      setBusy(null);
    }
  };
  if (banners.length === 0 && notice === null) return null;
  return (
    <section aria-label="Callback URLs in trouble" data-testid="webhook-url-banners">
      <Notice notice={notice} />
      {banners.map(({ url, banner }) => (
        <div key={url.url} class={`url-banner url-banner-${banner.kind}`} role="note" data-url={url.url} data-url-state={banner.kind}>
          <p class="url-banner-title"><strong>{banner.title}:</strong> <span class="mono break">{url.url}</span></p>
          <Explanation url={url} banner={banner} />
          {banner.reopenDeliveryId && (
            <div class="actions">
              <button type="button" class="button" aria-disabled={busy === banner.reopenDeliveryId ? 'true' : undefined} aria-label={`Redeliver ${banner.reopenDeliveryId} to open ${url.url} again`} onClick={() => void redeliver(banner.reopenDeliveryId!)}>
                {busy === banner.reopenDeliveryId ? 'Sending…' : `Redeliver ${banner.reopenDeliveryId}`}
              </button>
            </div>
          )}
        </div>
      ))}
    </section>
  );
}
