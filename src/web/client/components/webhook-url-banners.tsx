// A banner per callback URL in trouble, above the deliveries: disabled (since when, what it means,
// the message to redeliver to open it again, with a button that does), paused (until when), or
// gone for some bots or calendar connections (a 410; the first line, by id, with its own button). GET
// /webhooks/urls says how each URL stands.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { formatRelative } from '../format.ts';
import { useNoticeFocus } from '../notice-focus.ts';
import type { WebhookUrl } from '../types.ts';
import { countsWords, goneCountWords, isConnectionLine, isReopened, lineWords, redeliverLabel, redeliveryAskedWords, reopenedWords, unnamedReopenWords, urlBanners, type UrlBanner } from '../webhook-url-words.ts';
import { LocalTime } from './local-time.tsx';
import { Notice } from './states.tsx';

function Explanation({ url, banner }: { url: WebhookUrl; banner: UrlBanner }) {
  const counts = countsWords(url);
  if (banner.kind === 'disabled') {
    return (
      <p>
        Disabled{url.disabled_at ? <> on <LocalTime iso={url.disabled_at} /></> : ''}, every attempt to send to it having failed since {url.failing_since ? <LocalTime iso={url.failing_since} /> : 'days before'}{url.last_failure_at && <> (last failure <LocalTime iso={url.last_failure_at} />)</>}: its webhooks now fail without being sent{counts && ` (${counts})`}.
        {' '}Once its receiver works again, redeliver {banner.reopenDeliveryId ? <code>{banner.reopenDeliveryId}</code> : unnamedReopenWords(url)}: when the receiver takes it, the URL opens again. The webhooks not sent meanwhile are not sent by themselves; redeliver those you want from the list below.
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
  const line = banner.goneLine;
  const others = url.gone_bots - 1;
  return (
    <p>
      Its receiver answered 410 Gone to the webhooks of {url.gone_bots === 1 ? `${goneCountWords(url).replace(/^1 /, 'one ')}: its webhooks` : `${goneCountWords(url)}: their webhooks`} to it fail without being sent{counts && ` (${counts})`}.
      {line && <>{' '}To open the line of {lineWords(line)} again, redeliver <code>{line.delivery_id}</code>, the webhook it refused: when the receiver takes it, {isConnectionLine(line) ? 'that connection\'s' : 'that bot\'s'} webhooks go to it again.</>}
      {others > 0 && <>{' '}The other {others === 1 ? 'line opens' : `${others} lines open`} the same way, each by its own refused webhook (among the failed deliveries below).</>}
    </p>
  );
}

/** `onChanged`: a redelivery was asked for; the page reads its lists again. */
export function WebhookUrlBanners({ urls, onChanged }: { urls: readonly WebhookUrl[]; onChanged: () => void }) {
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  /** The banner whose redelivery was asked for last, until what it opens is open. */
  const [asked, setAsked] = useState<{ url: string; banner: UrlBanner } | null>(null);
  // Its banner goes once the URL opens, and its Redeliver button with it: the focus, if it was
  // there, goes to the notice that says so.
  const { noticeRef, focusNoticeSoon } = useNoticeFocus(urls);
  const banners = urlBanners(urls);
  useEffect(() => {
    if (asked === null || !isReopened(urls, asked.url, asked.banner)) return;
    setNotice({ kind: 'ok', text: reopenedWords(asked.url, asked.banner) });
    setAsked(null);
    focusNoticeSoon();
  }, [urls]);
  // Busy, the button says so without being disabled: a disabled button would drop the keyboard focus it has.
  const redeliver = async (url: WebhookUrl, banner: UrlBanner) => {
    const deliveryId = banner.reopenDeliveryId!;
    if (busy === deliveryId) return;
    setBusy(deliveryId);
    try {
      await api.post(`/webhooks/deliveries/${encodeURIComponent(deliveryId)}/redeliver`);
      setNotice({ kind: 'ok', text: redeliveryAskedWords(url, banner) });
      setAsked({ url: url.url, banner });
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
      <Notice notice={notice} focusRef={noticeRef} />
      {banners.map(({ url, banner }) => (
        <div key={url.url} class={`url-banner url-banner-${banner.kind}`} role="note" data-url={url.url} data-url-state={banner.kind}>
          <p class="url-banner-title"><strong>{banner.title}:</strong> <span class="mono break">{url.url}</span></p>
          <Explanation url={url} banner={banner} />
          {banner.reopenDeliveryId && (
            <div class="actions">
              <button type="button" class="button" aria-disabled={busy === banner.reopenDeliveryId ? 'true' : undefined} aria-label={redeliverLabel(url, banner)} onClick={() => void redeliver(url, banner)}>
                {busy === banner.reopenDeliveryId ? 'Sending…' : `Redeliver ${banner.reopenDeliveryId}`}
              </button>
            </div>
          )}
        </div>
      ))}
    </section>
  );
}
