// Webhook deliveries with their attempts, next retry and last error, and a Redeliver button each.
import { useState } from 'preact/hooks';
import { api, BASE } from '../api.ts';
import { formatDateTime, formatRelative } from '../format.ts';
import type { Delivery } from '../types.ts';
import { StatusBadge } from './status-badge.tsx';
import { Notice } from './states.tsx';

const DELIVERY_WORDS: Record<Delivery['status'], string> = { pending: 'Pending', retrying: 'Retrying', delivered: 'Delivered', failed: 'Failed' };

export function DeliveriesTable({ deliveries, showBot, onChanged, label }: { deliveries: Delivery[]; showBot: boolean; onChanged: () => void; label: string }) {
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const redeliver = async (delivery: Delivery) => {
    setBusy(delivery.delivery_id);
    try {
      await api.post(`/webhooks/deliveries/${encodeURIComponent(delivery.delivery_id)}/redeliver`);
      setNotice({ kind: 'ok', text: `${delivery.event} is being sent again.` });
      onChanged();
    } catch (error) {
      setNotice({ kind: 'error', text: `Redelivery failed: ${(error as Error).message}` });
    } finally {
      setBusy(null);
    }
  };
  return (
    <>
      <Notice notice={notice} />
      <table class="table responsive" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Queued</th>
            {showBot && <th scope="col">Bot</th>}
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Next retry</th>
            <th scope="col">Last error</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => (
            <tr key={d.delivery_id} data-delivery-id={d.delivery_id} data-delivery-status={d.status}>
              <td data-label="Queued"><time dateTime={d.created_at}>{formatDateTime(d.created_at)}</time></td>
              {showBot && <td data-label="Bot"><a href={`${BASE}/bots/${d.bot_id}`} class="mono">{d.bot_id}</a></td>}
              <td data-label="Event"><span class="mono">{d.event}</span><div class="muted small break">{d.url}</div></td>
              <td data-label="Status"><StatusBadge status={d.status} label={DELIVERY_WORDS[d.status]} /></td>
              <td data-label="Attempts">{d.attempts}</td>
              <td data-label="Next retry">{d.next_attempt_at ? <><time dateTime={d.next_attempt_at}>{formatDateTime(d.next_attempt_at)}</time><div class="muted small">{formatRelative(d.next_attempt_at)}</div></> : '—'}</td>
              <td data-label="Last error" class="break">{d.last_error ?? '—'}</td>
              <td data-label="Actions">
                <button type="button" class="button" disabled={busy === d.delivery_id} aria-label={`Redeliver ${d.event} of ${d.bot_id}`} onClick={() => void redeliver(d)}>
                  {busy === d.delivery_id ? 'Sending…' : 'Redeliver'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
