// What a bot's page says of the ids and numbers its decisions and key carry, at display time: the
// API's stored text stays as it is (API clients read and match on it, docs/behaviour.md).

/**
 * The reason with each event it names by id ("Scheduled for event evt_… (zoom:…)") named by its
 * title instead, where the page read the event ("Scheduled for “Design review” (zoom:…)"); an
 * event the page does not know keeps its id. "joins 180 s before the start" is said in minutes.
 */
export function nameEventsInReason(text: string, titles: ReadonlyMap<string, string>): string {
  let named = text;
  // Longest ids first: one id may begin another's (a series and its occurrence).
  for (const [id, title] of [...titles].sort(([a], [b]) => b.length - a.length)) {
    if (title.trim() === '') continue;
    named = named.replace(new RegExp(`\\bevent ${escapeRegExp(id)}(?![\\w:-])`, 'g'), () => `“${title}”`);
  }
  return named.replace(/\b(\d+) s before the start\b/g, (_, seconds: string) => `${durationWords(Number(seconds))} before the start`);
}

/** 180 → "3 minutes", 60 → "1 minute", 90 → "90 seconds", 1 → "1 second". */
export function durationWords(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

/**
 * A deduplication key the dashboard or auto-schedule set, in words (the key itself stays
 * available beside it); null for any other key, shown as it was given.
 */
export function deduplicationKeyWords(key: string): string | null {
  if (key.startsWith('dashboard:')) return 'Chosen by the dashboard';
  if (key.startsWith('auto:')) return 'Set by auto-schedule';
  return null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
