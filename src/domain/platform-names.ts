// Meeting platforms as MeetStream's bot routes name them (GMeet, Zoom, Teams) beside Rollcall's
// own names (google_meet, zoom, microsoft_teams, webex, ...): in answers, and in the GET /bots filter.

const MEETSTREAM_PLATFORM: Record<string, string> = { google_meet: 'GMeet', zoom: 'Zoom', microsoft_teams: 'Teams' };

/** MeetStream's label for a Rollcall platform (GMeet, Zoom, Teams), else Rollcall's own name. */
export function meetStreamPlatformOf(platform: string | null): string | null {
  return platform === null ? null : MEETSTREAM_PLATFORM[platform] ?? platform;
}

/** What a GET /bots `platform` filter takes: MeetStream's labels and Rollcall's platform names, in any case. */
export const PLATFORM_FILTERS = ['GMeet', 'Zoom', 'Teams', 'google_meet', 'microsoft_teams', 'webex', 'gotomeeting', 'bluejeans', 'whereby'] as const;

/** The Rollcall platform a GET /bots `platform` filter names (MeetStream's label or Rollcall's name, any case), or null. */
export function platformOfFilter(value: string): string | null {
  const lower = value.toLowerCase();
  const named = PLATFORM_FILTERS.find((name) => name.toLowerCase() === lower);
  if (named === undefined) return null;
  return Object.entries(MEETSTREAM_PLATFORM).find(([, label]) => label === named)?.[0] ?? named;
}
