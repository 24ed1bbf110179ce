// What a bot's meeting is called, on the dashboard's pages and in the webhook deliveries list: its
// first event's title, else the host of its meeting link (the bot's own name says nothing: many
// bots carry the same one).

export function meetingTitle(titles: readonly (string | null | undefined)[], meetingUrl: string): string {
  const title = titles.find((t) => t);
  if (title) return title;
  try {
    return new URL(meetingUrl).host;
  } catch {
    return meetingUrl;
  }
}

/**
 * The meeting of a bot from its events: its linked events' titles first; a bot that has ended
 * (done, missed, cancelled, failed) has let go of its events, and the meeting it was for still
 * names it, which is what it is looked up for.
 */
export function meetingTitleOfEvents(events: readonly { title: string | null | undefined; is_linked: boolean }[], meetingUrl: string): string {
  const linked = events.filter((event) => event.is_linked).map((event) => event.title);
  return meetingTitle(linked.some((title) => title) ? linked : events.map((event) => event.title), meetingUrl);
}
