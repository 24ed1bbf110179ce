// Status webhooks: callback URLs in trouble, recent deliveries and failures with redelivery; the signing secret.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, inBackground, query } from '../api.ts';
import { staleSince, useApi } from '../use-api.ts';
import { useReloadOnStatusChanges } from '../live.ts';
import { formatDateTime } from '../format.ts';
import type { Delivery, WebhookSecret, WebhookUrl } from '../types.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { DeliveriesTable } from '../components/deliveries-table.tsx';
import { WebhookUrlBanners } from '../components/webhook-url-banners.tsx';
import { Empty, ErrorState, Loading, Notice, StaleNotice } from '../components/states.tsx';
import { Pager, usePager } from '../components/pager.tsx';

const FILTERS = [
  { value: '', label: 'All' },
  { value: 'failing', label: 'Failing' },
  { value: 'retrying', label: 'Retrying' },
  { value: 'failed', label: 'Given up' },
  { value: 'pending', label: 'Pending' },
  { value: 'delivered', label: 'Delivered' },
];

/** While anything is still on its way, the list is read again this often. */
const REFRESH_MS = 2000;
/** A retry due within this long is followed as closely; a later one is read when it is near. */
const DUE_SOON_MS = 10_000;

export function WebhooksPage() {
  const [filter, setFilter] = useState('');
  const pager = usePager();
  const listTitle = useRef<HTMLHeadingElement>(null);
  const deliveries = useApi(
    () => api.get<{ deliveries: Delivery[]; next: string | null }>(`/webhooks/deliveries${query({ status: filter, limit: 25, cursor: pager.cursor })}`),
    `${filter}|${pager.cursor ?? ''}`,
  );
  // The callback URLs in trouble (disabled, paused, gone): a delivery taken, failed or given up is
  // what changes them, so they are read again after an action, a bot's status change and a
  // delivery in the list changing; besides, like every read of a page, when the tab is shown again,
  // the connection comes back, and every 30 s while the tab is visible (freshness.ts). Not with the
  // list's own 2 s reads: every read counts against the key's rate limit, which the user's own
  // integration shares.
  const urls = useApi(() => api.get<{ urls: WebhookUrl[]; has_more: boolean }>('/webhooks/urls'), 'urls');
  const reloadUrls = () => void urls.reload();
  const reloadAll = () => {
    void deliveries.reload();
    reloadUrls();
  };
  useReloadOnStatusChanges(reloadAll);
  // Only what is about to change is followed this closely: a delivery pending, or retrying with its
  // next attempt due within a few seconds (a receiver failing for days has its retries an hour
  // apart, and the list says when); not while the tab is hidden (it is read again on return).
  const list = deliveries.data?.deliveries;
  useEffect(() => {
    if (!list?.some((d) => d.status === 'pending' || d.status === 'retrying')) return;
    const timer = setInterval(() => {
      const isDueSoon = list.some((d) => d.status === 'pending' || (d.next_attempt_at !== null && Date.parse(d.next_attempt_at) - Date.now() < DUE_SOON_MS));
      if (!isDueSoon || document.hidden) return;
      inBackground(() => void deliveries.reload());
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [list]);
  // A delivery of the list that changed (sent, failed, given up) since the list was last read: the
  // URLs are read again. Deliveries coming into or leaving the list (another page, another filter,
  // new ones queued) change nothing of themselves.
  const seen = useRef<Map<string, string>>(new Map());
  useEffect(() => {
    if (!list) return;
    const now = new Map(list.map((d) => [d.delivery_id, `${d.status} ${d.attempts}`]));
    const hasChanged = list.some((d) => seen.current.has(d.delivery_id) && seen.current.get(d.delivery_id) !== now.get(d.delivery_id));
    seen.current = now;
    if (hasChanged) inBackground(reloadUrls);
  }, [list]);

  return (
    <section class="page">
      <h1>Webhooks</h1>
      <StaleNotice since={staleSince(deliveries, urls)} />
      {urls.data ? <WebhookUrlBanners urls={urls.data.urls} onChanged={reloadAll} />
        : urls.error && <ErrorState error={new Error(`The callback URLs could not be read: ${urls.error.message}`)} onRetry={reloadUrls} />}
      <SigningSecret />
      <section class="card" aria-labelledby="deliveries-title">
        <div class="card-header">
          <h2 id="deliveries-title" ref={listTitle}>Deliveries</h2>
          <div class="segmented" role="group" aria-label="Show deliveries">
            {FILTERS.map((f) => (
              <button key={f.value} type="button" class="button" aria-pressed={filter === f.value} onClick={() => { setFilter(f.value); pager.reset(); }}>{f.label}</button>
            ))}
          </div>
        </div>
        {deliveries.error ? <ErrorState error={deliveries.error} onRetry={() => void deliveries.reload()} />
          : deliveries.data === null ? <Loading what="deliveries" />
            : deliveries.data.deliveries.length === 0 ? (
              <Empty title={filter === 'failing' ? 'No failing deliveries.' : 'No deliveries.'}>
                <p>Bots with a <code>callback_url</code> in their <code>bot_config</code> get a signed webhook for every status change.</p>
              </Empty>
            ) : (
              <>
                <DeliveriesTable deliveries={deliveries.data.deliveries} isOutdated={deliveries.isOutdated} showBot onChanged={reloadAll} label="Webhook deliveries" />
                <Pager pager={pager} nextCursor={deliveries.data.next} label="Deliveries" top={listTitle} isBusy={deliveries.isOutdated} />
              </>
            )}
      </section>
    </section>
  );
}

function SigningSecret() {
  const [secret, setSecret] = useState<WebhookSecret | null>(null);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const reveal = async () => {
    try {
      setSecret(await api.get<WebhookSecret>('/webhooks/secret'));
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    }
  };
  const rotate = async () => {
    try {
      setSecret(await api.post<WebhookSecret>('/webhooks/secret/rotate'));
      setNotice({ kind: 'ok', text: 'A new secret signs from now on; the old one also signs for 24 hours.' });
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message });
    }
  };
  return (
    <section class="card" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      <p class="hint">Webhooks are signed with the Standard Webhooks scheme; receivers verify them with this secret.</p>
      <Notice notice={notice} />
      {secret === null ? (
        <p class="secret"><span class="mono" aria-label="Hidden secret">whsec_••••••••••••••••</span></p>
      ) : (
        <>
          <p class="secret"><code class="mono break" data-testid="webhook-secret">{secret.secret}</code></p>
          {secret.previous_secret_valid_until && <p class="muted">Secrets rotated out in the last day also sign, each for a day after its rotation: until {formatDateTime(secret.previous_secret_valid_until)} at the latest.</p>}
        </>
      )}
      <div class="actions">
        {secret === null
          ? <button type="button" class="button" onClick={() => void reveal()}>Reveal secret</button>
          : <button type="button" class="button" onClick={() => setSecret(null)}>Hide secret</button>}
        <ConfirmButton label="Rotate secret" question="Rotate the secret? Receivers must switch to the new one within 24 hours." confirmLabel="Yes, rotate" tone="danger" onConfirm={rotate} />
      </div>
    </section>
  );
}
