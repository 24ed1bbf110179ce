import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMeetingLink, type MeetingPlatform } from './meeting-url.ts';
import { findProviderInputProblem, pythonJsonLength, type ProviderInput } from './provider-input-limits.ts';

/** The link as the booking paths hand it to the check. */
function link(url: string): NonNullable<ProviderInput['meeting']> {
  return parseMeetingLink(url)!;
}

/** A link every provider that joins the platform takes. */
const SAMPLE: Record<MeetingPlatform, string> = {
  zoom: 'https://us02web.zoom.us/j/85412345678?pwd=abc',
  google_meet: 'https://meet.google.com/abc-defg-hij',
  microsoft_teams: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjEx%40thread.v2/0?context=%7b%22Tid%22%3a%22t-1%22%2c%22Oid%22%3a%22o-1%22%7d',
  webex: 'https://acme.webex.com/meet/jane',
  gotomeeting: 'https://meet.goto.com/123456789',
  bluejeans: 'https://bluejeans.com/123456789',
  whereby: 'https://whereby.com/team-room',
};

function on(platform: MeetingPlatform): NonNullable<ProviderInput['meeting']> {
  const meeting = link(SAMPLE[platform]);
  assert.equal(meeting.platform, platform);
  return meeting;
}

const plain: ProviderInput = { botName: 'Notetaker', customAttributes: {}, meeting: on('zoom') };

test('the length of Python\'s json.dumps text (vectors printed by Python 3\'s json.dumps with its defaults)', () => {
  assert.equal(pythonJsonLength({}), 2);
  assert.equal(pythonJsonLength({ team: 'core' }), 16);
  // Beyond ASCII: \u00e9, two BMP characters, a surrogate pair.
  assert.equal(pythonJsonLength({ a: 'é', b: '日本', c: '😀' }), 57);
  // Quotes, a backslash, short escapes, a control and DEL.
  assert.equal(pythonJsonLength({ q: 'say "hi"\\', ctl: '\n\t\u0001\u007f' }), 48);
  assert.equal(pythonJsonLength({ k: 'x'.repeat(951) }), 960);
  assert.equal(pythonJsonLength({ rollcall_bot_id: `bot_${'x'.repeat(22)}` }), 49);
});

test('every provider: a meeting on a platform it joins passes; one it does not is refused, naming meeting_url', () => {
  for (const provider of ['recall', 'attendee', 'meetstream'] as const) {
    for (const platform of ['zoom', 'google_meet', 'microsoft_teams'] as const) assert.equal(findProviderInputProblem(provider, { ...plain, meeting: on(platform) }), null, `${provider} ${platform}`);
    for (const platform of ['bluejeans', 'whereby'] as const) assert.equal(findProviderInputProblem(provider, { ...plain, meeting: on(platform) })?.field, 'meeting_url', `${provider} ${platform}`);
    // A host Rollcall does not recognise is the provider's to judge (Recall joins zoom-x.de links).
    assert.equal(findProviderInputProblem(provider, { ...plain, meeting: link('https://zoom-x.de/j/123') }), null, `${provider} unknown host`);
  }
  // Recall also joins Webex and GoTo Meeting (its meeting-URL guide); the others do not.
  assert.equal(findProviderInputProblem('recall', { ...plain, meeting: on('webex') }), null);
  assert.equal(findProviderInputProblem('recall', { ...plain, meeting: on('gotomeeting') }), null);
  assert.match(findProviderInputProblem('attendee', { ...plain, meeting: on('webex') })!.problem, /Attendee\) does not join Webex meetings; it joins Zoom, Google Meet, Microsoft Teams/);
  assert.equal(findProviderInputProblem('meetstream', { ...plain, meeting: on('gotomeeting') })?.field, 'meeting_url');
});

test('Recall: bot_name of 1 to 100 characters, counted as characters, not UTF-16 units', () => {
  assert.equal(findProviderInputProblem('recall', { ...plain, botName: 'x'.repeat(100) }), null);
  assert.equal(findProviderInputProblem('recall', { ...plain, botName: '😀'.repeat(100) }), null);
  assert.match(findProviderInputProblem('recall', { ...plain, botName: 'x'.repeat(101) })!.problem, /1 to 100 characters .* got 101/);
  assert.equal(findProviderInputProblem('recall', { ...plain, botName: '' })?.field, 'bot_name');
  // Attributes: Recall documents no limit on them.
  assert.equal(findProviderInputProblem('recall', { ...plain, customAttributes: { k: 'x'.repeat(5000) } }), null);
});

test('Attendee: no blank bot_name nor one beyond the Basic Multilingual Plane; custom_attributes within its metadata budget beside Rollcall\'s own entry', () => {
  assert.equal(findProviderInputProblem('attendee', { ...plain, botName: 'Protokoll – 日本' }), null);
  assert.equal(findProviderInputProblem('attendee', { ...plain, botName: 'x'.repeat(200) }), null);
  assert.equal(findProviderInputProblem('attendee', { ...plain, botName: '   ' })?.field, 'bot_name');
  assert.match(findProviderInputProblem('attendee', { ...plain, botName: 'Notes 📝' })!.problem, /beyond U\+FFFF/);
  // 1,000 in all, 49 of them Rollcall's: 951 for the client's.
  const fits = { k: 'x'.repeat(951 - 9) };
  assert.equal(pythonJsonLength(fits), 951);
  assert.equal(findProviderInputProblem('attendee', { ...plain, customAttributes: fits }), null);
  const over = { k: 'x'.repeat(951 - 8) };
  assert.match(findProviderInputProblem('attendee', { ...plain, customAttributes: over })!.problem, /^952 characters .* at most 951$/);
  // Counted as Attendee counts: an é is six characters there.
  assert.equal(findProviderInputProblem('attendee', { ...plain, customAttributes: { k: 'é'.repeat(160) } })?.field, 'custom_attributes');
  // MeetStream documents no such limits.
  assert.equal(findProviderInputProblem('meetstream', { ...plain, botName: '📝'.repeat(150), customAttributes: over }), null);
});

/** The provider's problem with a link, or null. */
function linkProblem(provider: 'recall' | 'attendee' | 'meetstream', url: string): string | null {
  const problem = findProviderInputProblem(provider, { ...plain, meeting: link(url) });
  if (problem !== null) assert.equal(problem.field, 'meeting_url');
  return problem?.problem ?? null;
}

test('Recall: a Google Meet lookup link is refused (its meeting-URL guide takes a Meet code right after the host); the meeting\'s own link passes', () => {
  assert.match(linkProblem('recall', 'https://meet.google.com/lookup/weekly-sync')!, /Recall\) does not take Google Meet lookup links/);
  assert.match(linkProblem('recall', 'https://meet.google.com/_meet/lookup/weekly-sync?authuser=0')!, /lookup links/);
  assert.equal(linkProblem('recall', 'https://meet.google.com/abc-defg-hij'), null);
  assert.equal(linkProblem('recall', 'https://meet.google.com/abcdefghij?authuser=1'), null);
  // Attendee's parser takes "lookup" for a code, so its creation takes the link; MeetStream says nothing.
  assert.equal(linkProblem('attendee', 'https://meet.google.com/lookup/weekly-sync'), null);
  assert.equal(linkProblem('meetstream', 'https://meet.google.com/lookup/weekly-sync'), null);
});

test('Attendee: a Zoom link needs a meeting number in its path and a zoom.us or zoom.com host', () => {
  assert.match(linkProblem('attendee', 'https://zoom.us/my/jane.doe')!, /Attendee\) needs a Zoom link with the meeting's number in its path/);
  assert.match(linkProblem('attendee', 'https://acme.zoom.us/my/jane')!, /personal link/);
  assert.match(linkProblem('attendee', 'https://agency.zoomgov.com/j/1612345678?pwd=abc')!, /not ZoomGov \(zoomgov\.com\) links/);
  assert.equal(linkProblem('attendee', 'https://zoom.us/j/85412345678'), null);
  assert.equal(linkProblem('attendee', 'https://zoom.com/j/85412345678?pwd=abc'), null);
  assert.equal(linkProblem('attendee', 'https://acme.zoom.us/wc/join/85412345678'), null);
  // Read percent-decoded too, as Attendee reads it.
  assert.equal(linkProblem('attendee', 'https://zoom.us/j/%38%35%34%31%32'), null);
  // Any digit in the path will do for Attendee's creation, a personal link's included.
  assert.equal(linkProblem('attendee', 'https://zoom.us/my/room42'), null);
  // Recall's guide names personal links; neither it nor MeetStream is known to refuse ZoomGov.
  for (const provider of ['recall', 'meetstream'] as const) {
    assert.equal(linkProblem(provider, 'https://zoom.us/my/jane.doe'), null, provider);
    assert.equal(linkProblem(provider, 'https://agency.zoomgov.com/j/1612345678'), null, provider);
  }
});

test('Attendee: a Google Meet link needs the meeting code right after meet.google.com/', () => {
  assert.match(linkProblem('attendee', 'https://meet.google.com/_meet/abc-defg-hij')!, /Attendee\) needs a Google Meet link with the meeting code right after the host/);
  assert.match(linkProblem('attendee', 'https://www.meet.google.com/abc-defg-hij')!, /Google Meet link/);
  assert.equal(linkProblem('attendee', 'https://meet.google.com/abc-defg-hij?authuser=1&hs=122'), null);
  assert.equal(linkProblem('attendee', 'http://meet.google.com/abcdefghij'), null);
  assert.equal(linkProblem('recall', 'https://meet.google.com/_meet/abc-defg-hij'), null);
});

test('Attendee: a Teams link must carry the tenant and organizer, or the /meet/ passcode, first in its query, on one of its four hosts', () => {
  const thread = '19%3ameeting_NjExOTkx%40thread.v2';
  const context = '%7b%22Tid%22%3a%22t-1%22%2c%22Oid%22%3a%22o-1%22%7d';
  const refused = [
    `https://teams.microsoft.com/l/meetup-join/${thread}/0`,
    `https://teams.microsoft.com/l/meetup-join/${thread}/0?context=%7b%22Tid%22%3a%22t-1%22%7d`,
    `https://teams.microsoft.com/l/meetup-join/${thread}/0?context=%7b%22Oid%22%3a%22o-1%22%2c%22Tid%22%3a%22t-1%22%7d`,
    `https://teams.microsoft.com/l/meetup-join/${thread}/0?anon=true&context=${context}`,
    'https://teams.microsoft.com/meet/2345678901234',
    'https://teams.live.com/meet/2345678901234?anon=true&p=AbCd12',
  ];
  for (const url of refused) assert.match(linkProblem('attendee', url) ?? 'accepted', /Attendee\) needs a Microsoft Teams link that names the meeting's tenant and organizer/, url);
  assert.match(linkProblem('attendee', 'https://teams.cloud.microsoft/meet/2345678901234?p=AbCd12')!, /does not take Microsoft Teams links of teams\.cloud\.microsoft/);
  const accepted = [
    `https://teams.microsoft.com/l/meetup-join/${thread}/0?context=${context}`,
    `https://teams.microsoft.com/l/meetup-join/19:meeting_NjExOTkx@thread.v2/0?context={"Tid":"t-1","Oid":"o-1","IsBroadcastMeeting":true}`,
    `https://gov.teams.microsoft.us/l/meetup-join/${thread}/0?context=${context}&anon=true`,
    `https://teams.microsoft.com/_#/l/meetup-join/${thread}/0?context=${context}`,
    // The launcher's target, encoded twice: read on the third reading.
    'https://teams.microsoft.com/dl/launcher/launcher.html?url=%2F_%23%2Fl%2Fmeetup-join%2F19%3Ameeting_NjExOTkx%40thread.v2%2F0%3Fcontext%3D%257b%2522Tid%2522%253a%2522t-1%2522%252c%2522Oid%2522%253a%2522o-1%2522%257d%26anon%3Dtrue&type=meetup-join',
    'https://teams.live.com/meet/2345678901234?p=AbCd12',
    'https://teams.microsoft.com/meet/2345678901234?p=AbCd12&anon=true',
  ];
  for (const url of accepted) {
    assert.equal(link(url).platform, 'microsoft_teams', url);
    assert.equal(linkProblem('attendee', url), null, url);
  }
  // Recall and MeetStream are not known to refuse these shapes.
  for (const provider of ['recall', 'meetstream'] as const) assert.equal(linkProblem(provider, refused[0]!), null, provider);
});

test('MeetStream: live_transcription_required with a post-call transcription provider is refused, naming it; a streaming provider, none, or meeting_captions passes; other providers are not held to it', () => {
  // The Node SDK's CreateBotParams ("Requires a *_streaming transcription provider, otherwise the
  // API returns 400") and PostCallTranscriptionProvider (meetstream-ai/meetstream-node src/types.ts).
  const live = { webhook_url: 'https://captions.example.com/live' };
  const input = (config: Record<string, unknown>): ProviderInput => ({ botName: 'Notes', customAttributes: {}, meeting: link(SAMPLE.zoom), config });
  for (const name of ['deepgram', 'assemblyai', 'sarvam', 'jigsawstack', 'meetstream']) {
    for (const config of [
      { live_transcription_required: live, recording_config: { transcript: { provider: { [name]: {} } } } },
      { live_transcription_required: live, transcription: { [name]: { model: 'x' } } },
      { live_transcription_required: live, provider_settings: { meetstream: { recording_config: { transcript: { provider: { [name]: {} } } } } } },
      // Read where the launch sends it: provider_settings.meetstream.transcription is sent as a
      // field of its own, while the provider MeetStream reads comes from the top-level one...
      { live_transcription_required: live, transcription: { [name]: {} }, provider_settings: { meetstream: { transcription: { deepgram_streaming: {} } } } },
      // ...and a live transcript provider_settings sends, {} included, replaces the top-level one.
      { live_transcription_required: live, transcription: { [name]: {} }, provider_settings: { meetstream: { live_transcription_required: {} } } },
      { transcription: { [name]: {} }, provider_settings: { meetstream: { live_transcription_required: live } } },
    ]) {
      const problem = findProviderInputProblem('meetstream', input(config));
      assert.equal(problem?.field, 'live_transcription_required', JSON.stringify(config));
      assert.match(problem!.problem, new RegExp(`^needs a streaming transcription provider .*"${name}" transcribes only after the meeting$`));
      assert.equal(findProviderInputProblem('recall', input(config)), null);
      assert.equal(findProviderInputProblem('attendee', input(config)), null);
    }
  }
  for (const config of [
    { live_transcription_required: live, recording_config: { transcript: { provider: { deepgram_streaming: {} } } } },
    { live_transcription_required: live, transcription: { assemblyai_streaming: {} } },
    { live_transcription_required: live, transcription: { meeting_captions: {} } },
    { live_transcription_required: live },
    // The transcript create_bot carries wins over the calendar's transcription (meetstream-bot-provider.ts).
    { live_transcription_required: live, transcription: { deepgram: {} }, recording_config: { transcript: { provider: { deepgram_streaming: {} } } } },
    { live_transcription_required: {}, transcription: { deepgram: {} } },
    // provider_settings.meetstream sends the streaming provider where MeetStream reads it, or no live transcript.
    { live_transcription_required: live, transcription: { deepgram: {} }, provider_settings: { meetstream: { recording_config: { transcript: { provider: { deepgram_streaming: {} } } } } } },
    { live_transcription_required: live, transcription: { deepgram: {} }, provider_settings: { meetstream: { live_transcription_required: null } } },
    { transcription: { deepgram: {} } },
  ]) {
    assert.equal(findProviderInputProblem('meetstream', input(config)), null, JSON.stringify(config));
  }
  // Without the config (a stored one, a rename), nothing of it is checked.
  assert.equal(findProviderInputProblem('meetstream', { botName: 'Notes', customAttributes: {} }), null);
});
