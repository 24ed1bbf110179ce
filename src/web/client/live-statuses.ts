// Which bot statuses are live: waiting to join, or on its way into, in, or out of its meeting. The
// API's own list (src/domain/bot-status.ts, pure and without imports), so that the pages never
// disagree with the API about which bot still holds its event, or which statuses the Upcoming
// filter may ask for.
import { LIVE_STATUSES } from '../../domain/bot-status.ts';

export { LIVE_STATUSES };

export function isLiveStatus(status: string): boolean {
  return (LIVE_STATUSES as readonly string[]).includes(status);
}
