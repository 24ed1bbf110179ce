// Where an action on a bot came from, so that its status timeline and decision log say so: a
// request with an API key, the dashboard (the same API, signed in with a session cookie),
// auto-schedule, chain mode, or the top-up of a schedule_all_occurrences batch.

export const ACTION_ORIGINS = ['api', 'dashboard', 'auto_schedule', 'chain', 'batch_top_up'] as const;

export type ActionOrigin = typeof ACTION_ORIGINS[number];

/** A stored origin (bots.origin) as an ActionOrigin; null when none is stored (or one this version does not know). */
export function actionOriginOf(stored: string | null): ActionOrigin | null {
  return ACTION_ORIGINS.find((origin) => origin === stored) ?? null;
}

/** Where a request came from: the dashboard's session cookie, or an API key. */
export type RequestOrigin = Extract<ActionOrigin, 'api' | 'dashboard'>;

export function isRequestOrigin(origin: ActionOrigin): origin is RequestOrigin {
  return origin === 'api' || origin === 'dashboard';
}

/** "through the API", "from the dashboard": said after a verb ("Deleted through the API"). */
export function requestOriginWords(origin: RequestOrigin): string {
  return origin === 'dashboard' ? 'from the dashboard' : 'through the API';
}

/** The status reason of a bot a schedule request (or what books on its own) has just created. */
export function scheduledReason(origin: ActionOrigin): string {
  switch (origin) {
    case 'api': return 'Scheduled through the API';
    case 'dashboard': return 'Scheduled from the dashboard';
    case 'auto_schedule': return 'Booked by auto-schedule';
    case 'chain': return 'Booked by chain mode';
    case 'batch_top_up': return 'Booked by its series\' schedule_all_occurrences batch, for an occurrence that had no bot';
  }
}

/** The status reason of a bot POST /bots/create_bot has just created. */
export function createdReason(origin: RequestOrigin): string {
  return `Created ${requestOriginWords(origin)}`;
}
