// The session cookie belongs to the browser, not to one tab: a sign-in or sign-out in one tab
// changes whose data every other open tab reads next, while those tabs still say who they were
// signed in as. Each sign-in and sign-out is told to the other tabs of this origin, which read
// the session again at once (and so show whose data they show) instead of at their next write.

const CHANNEL = 'rollcall-dashboard-session';

/** Null where the browser has no BroadcastChannel: those tabs learn at their next write, as before. */
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;

/** Tells the other tabs that this browser's session changed (this tab signed in or out). */
export function announceSessionChange(): void {
  channel?.postMessage('changed');
}

/** Calls `handler` when another tab of this browser signed in or out. */
export function whenOtherTabChangesSession(handler: () => void): void {
  if (channel) channel.onmessage = () => handler();
}
