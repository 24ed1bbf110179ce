import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meetStreamPlatformOf, platformOfFilter } from './platform-names.ts';

test('the bot list\'s platform filter takes MeetStream\'s labels and Rollcall\'s names in any case; anything else is no platform', () => {
  assert.deepEqual(['GMeet', 'gmeet', 'google_meet', 'Zoom', 'ZOOM', 'Teams', 'microsoft_teams', 'Webex', 'webex', 'WhereBy'].map(platformOfFilter),
    ['google_meet', 'google_meet', 'google_meet', 'zoom', 'zoom', 'microsoft_teams', 'microsoft_teams', 'webex', 'webex', 'whereby']);
  for (const value of ['meet', 'skype', '', 'zoom ']) assert.equal(platformOfFilter(value), null, value);
  assert.deepEqual(['google_meet', 'zoom', 'microsoft_teams', 'webex', null].map(meetStreamPlatformOf), ['GMeet', 'Zoom', 'Teams', 'webex', null]);
});
