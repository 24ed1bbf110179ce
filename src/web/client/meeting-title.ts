// What a bot's meeting is called on the pages: its first event's title, else the host of its
// meeting link (the bot's own name says nothing: many bots carry the same one).

export function meetingTitle(titles: readonly (string | null | undefined)[], meetingUrl: string): string {
  const title = titles.find((t) => t);
  if (title) return title;
  try {
    return new URL(meetingUrl).host;
  } catch {
    return meetingUrl;
  }
}
