// Webhook deliveries with their attempts, next retry and last error, and a Redeliver button each.
import { useState } from 'preact/hooks';
import { api, BASE } from '../api.ts';
import { formatRelative, zoneAbbreviation } from '../format.ts';
import { LocalTime } from './local-time.tsx';
import type { Delivery } from '../types.ts';
import { StatusBadge } from './status-badge.tsx';
import { Notice } from './states.tsx';
import { DATA_DELETED_TITLE } from '../ended-bot.ts';

const DELIVERY_WORDS: Record<Delivery['status'], string> = { pending: 'Pending', retrying: 'Retrying', delivered: 'Delivered', failed: 'Failed' };

/**
 * When a delivery goes out next. A bot's messages to one address go out in order, so a message due
 * since a while may be waiting for an earlier one that is retrying later: its own due time, past,
 * would read "2 minutes ago". The API names the message it waits for (`queued_behind`), whether
 * or not that one is on the page (another filter's, another page's): it is said to wait for it,
 * with when that one is tried next.
 */
function NextAttempt({ delivery, nowMs }: { delivery: Delivery; nowMs: number }) {
  if (!delivery.next_attempt_at) return <>—</>;
  const earlier = delivery.queued_behind;
  if (earlier) {
    return (
      <>
        After the bot's earlier message
        <div class="muted small">{earlier.event}: {Date.parse(earlier.next_attempt_at) > nowMs ? `next try ${formatRelative(earlier.next_attempt_at, nowMs)}` : 'due now'}</div>
      </>
    );
  }
  if (Date.parse(delivery.next_attempt_at) > nowMs) {
    return <><LocalTime iso={delivery.next_attempt_at} /><div class="muted small">{formatRelative(delivery.next_attempt_at, nowMs)}</div></>;
  }
  return <>Due now</>;
}

/** `isOutdated`: the rows are another filter's or page's, while this one's are read (the table says it is busy). */
export function DeliveriesTable({ deliveries, isOutdated = false, showBot, onChanged, label }: { deliveries: Delivery[]; isOutdated?: boolean; showBot: boolean; onChanged: () => void; label: string }) {
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  // Busy, the button says so without being disabled: a disabled button would drop the keyboard focus it has.
  const redeliver = async (delivery: Delivery) => {
    if (busy === delivery.delivery_id) return;
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
  const nowMs = Date.now();
  return (
    <>
      <Notice notice={notice} />
      <table class="table responsive" aria-label={label} aria-busy={isOutdated ? 'true' : undefined}>
        <thead>
          <tr>
            <th scope="col">Queued ({zoneAbbreviation()})</th>
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
            <tr key={d.delivery_id} data-delivery-id={d.delivery_id} data-delivery-status={d.status} data-bot-id={d.bot_id}>
              <td data-label="Queued"><LocalTime iso={d.created_at} /></td>
              {/* Named by its meeting, as every other page names a bot. */}
              {showBot && (
                <td data-label="Bot" class="name-cell">
                  <a href={`${BASE}/bots/${d.bot_id}`}>{d.meeting_title || DATA_DELETED_TITLE}</a>
                  {d.bot_name && <div class="muted small">{d.bot_name}</div>}
                </td>
              )}
              {/* As the receiver reads it: the payload's event, and its bot_event where that says more (bot.stopped, bot.cancelled). */}
              <td data-label="Event">
                <span class="mono">{d.payload_event}</span>
                {d.event !== d.payload_event && <div class="small"><span class="muted">bot_event</span> <span class="mono">{d.event}</span></div>}
                <div class="muted small break">{d.url}</div>
              </td>
              <td data-label="Status"><StatusBadge status={d.status} label={DELIVERY_WORDS[d.status]} /></td>
              <td data-label="Attempts">{d.attempts}</td>
              <td data-label="Next retry"><NextAttempt delivery={d} nowMs={nowMs} /></td>
              <td data-label="Last error" class="break">{d.last_error ?? '—'}</td>
              <td data-label="Actions">
                <button type="button" class="button" aria-disabled={busy === d.delivery_id ? 'true' : undefined} aria-label={`Redeliver ${d.event} of ${d.meeting_title || d.bot_id}`} onClick={() => void redeliver(d)}>
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
