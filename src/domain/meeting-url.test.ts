import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  carriesPasscode,
  checkMeetingUrl,
  conferenceLinkToFollow,
  linkForSharedBot,
  findMeetingLink,
  isHttpUrl,
  parseMeetingLink,
  resolveMeetingLink,
  scheduleGroupOf,
  stripHtml,
  unwrapSafeLink,
} from './meeting-url.ts';
import type { MeetingLink, MeetingPlatform, ScheduleGroup } from './meeting-url.ts';

// Real-shaped fixtures. The Teams thread id deliberately mixes case, because
// that part of the id is case-sensitive and must survive untouched.
const TEAMS_THREAD = '19:meeting_NjY4ZTBjZmQtYjQ2Ny00ZmE1LWI1ZmEtMzM5ZTk2ZDM1YmEx@thread.v2';
const TEAMS_CONTEXT =
  'context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22a1b2c3d4-0000-1111-2222-333344445555%22%7d';
const TEAMS_JOIN =
  `https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjY4ZTBjZmQtYjQ2Ny00ZmE1LWI1ZmEtMzM5ZTk2ZDM1YmEx%40thread.v2/0?${TEAMS_CONTEXT}`;
const ZOOM_PWD = 'https://us02web.zoom.us/j/85412345678?pwd=aBcDeFgHiJkLmNoPqRsTuVwXyZ.1';

const googleWrap = (target: string): string =>
  `https://www.google.com/url?q=${encodeURIComponent(target)}&sa=D&source=calendar&ust=1700000000000000&usg=AOvVaw0abc`;
const safeLinksWrap = (target: string): string =>
  `https://nam12.safelinks.protection.outlook.com/?url=${encodeURIComponent(target)}&data=05%7C02%7Cjane%40acme.com%7C0123abcd%7C72f988bf%7C0%7C0%7C638000000000000000%7CUnknown&sdata=AbCdEf%2BgH%3D&reserved=0`;

interface LinkCase {
  name: string;
  input: string;
  platform: MeetingPlatform | null;
  identity: string;
  url: string;
}

function assertLink(actual: MeetingLink | null, expected: Omit<LinkCase, 'name' | 'input'>): void {
  assert.deepEqual(actual, { url: expected.url, platform: expected.platform, identity: expected.identity });
}

describe('parseMeetingLink: platform detection', () => {
  const cases: LinkCase[] = [
    // Zoom
    { name: 'zoom regional subdomain with pwd', input: ZOOM_PWD, platform: 'zoom', identity: 'zoom:85412345678', url: ZOOM_PWD },
    { name: 'zoom apex /j/', input: 'https://zoom.us/j/5551234567', platform: 'zoom', identity: 'zoom:5551234567', url: 'https://zoom.us/j/5551234567' },
    { name: 'zoom vanity subdomain with extra params', input: 'https://acme.zoom.us/j/91234567890?pwd=Zm9vYmFy&from=addon', platform: 'zoom', identity: 'zoom:91234567890', url: 'https://acme.zoom.us/j/91234567890?pwd=Zm9vYmFy&from=addon' },
    { name: 'zoom web client /wc/join/', input: 'https://app.zoom.us/wc/join/85412345678?pwd=abc', platform: 'zoom', identity: 'zoom:85412345678', url: 'https://app.zoom.us/wc/join/85412345678?pwd=abc' },
    { name: 'zoom web client /wc/<n>/join', input: 'https://zoom.us/wc/85412345678/join?track_id=&jmf_code=&meeting_result=', platform: 'zoom', identity: 'zoom:85412345678', url: 'https://zoom.us/wc/85412345678/join?track_id=&jmf_code=&meeting_result=' },
    { name: 'zoom start link /s/ with www', input: 'https://www.zoom.us/s/85412345678?zak=eyJ0eXAiOiJKV1QifQ', platform: 'zoom', identity: 'zoom:85412345678', url: 'https://www.zoom.us/s/85412345678?zak=eyJ0eXAiOiJKV1QifQ' },
    { name: 'zoom webinar /w/', input: 'https://zoom.us/w/91234567890?tk=abc.def&pwd=xyz', platform: 'zoom', identity: 'zoom:91234567890', url: 'https://zoom.us/w/91234567890?tk=abc.def&pwd=xyz' },
    { name: 'zoomgov subdomain', input: 'https://acme.zoomgov.com/j/1601234567?pwd=abc', platform: 'zoom', identity: 'zoom:1601234567', url: 'https://acme.zoomgov.com/j/1601234567?pwd=abc' },
    { name: 'zoom.com', input: 'https://zoom.com/j/85412345678', platform: 'zoom', identity: 'zoom:85412345678', url: 'https://zoom.com/j/85412345678' },
    { name: 'zoom upper-case host keeps url as given', input: 'https://US02WEB.ZOOM.US/j/85412345678', platform: 'zoom', identity: 'zoom:85412345678', url: 'https://US02WEB.ZOOM.US/j/85412345678' },
    { name: 'zoom dashed meeting number', input: 'https://zoom.us/j/854-1234-5678', platform: 'zoom', identity: 'zoom:85412345678', url: 'https://zoom.us/j/854-1234-5678' },
    { name: 'zoom personal link', input: 'https://acme.zoom.us/my/Jane.Doe', platform: 'zoom', identity: 'zoom:my:jane.doe', url: 'https://acme.zoom.us/my/Jane.Doe' },
    { name: 'zoom surrounding whitespace trimmed', input: '  https://zoom.us/j/5551234567 \n', platform: 'zoom', identity: 'zoom:5551234567', url: 'https://zoom.us/j/5551234567' },
    { name: 'zoom host, non-meeting path', input: 'https://zoom.us/download', platform: null, identity: 'url:zoom.us/download', url: 'https://zoom.us/download' },
    { name: 'zoom lookalike suffix host', input: 'https://zoom.us.evil.example/j/123', platform: null, identity: 'url:zoom.us.evil.example/j/123', url: 'https://zoom.us.evil.example/j/123' },
    { name: 'zoom lookalike prefix host', input: 'https://notzoom.us/j/123', platform: null, identity: 'url:notzoom.us/j/123', url: 'https://notzoom.us/j/123' },

    // Google Meet
    { name: 'meet canonical', input: 'https://meet.google.com/abc-defg-hij', platform: 'google_meet', identity: 'google_meet:abc-defg-hij', url: 'https://meet.google.com/abc-defg-hij' },
    { name: 'meet upper case with authuser', input: 'https://meet.google.com/ABC-DEFG-HIJ?authuser=1', platform: 'google_meet', identity: 'google_meet:abc-defg-hij', url: 'https://meet.google.com/ABC-DEFG-HIJ?authuser=1' },
    { name: 'meet without dashes with hs', input: 'https://meet.google.com/abcdefghij?hs=122', platform: 'google_meet', identity: 'google_meet:abc-defg-hij', url: 'https://meet.google.com/abcdefghij?hs=122' },
    { name: 'meet http and www', input: 'http://www.meet.google.com/xyz-abcd-efg', platform: 'google_meet', identity: 'google_meet:xyz-abcd-efg', url: 'http://www.meet.google.com/xyz-abcd-efg' },
    { name: 'meet lookup', input: 'https://meet.google.com/lookup/Team-Standup', platform: 'google_meet', identity: 'google_meet:lookup:team-standup', url: 'https://meet.google.com/lookup/Team-Standup' },
    { name: 'meet _meet route', input: 'https://meet.google.com/_meet/xyz-abcd-efg?authuser=0', platform: 'google_meet', identity: 'google_meet:xyz-abcd-efg', url: 'https://meet.google.com/_meet/xyz-abcd-efg?authuser=0' },
    { name: 'meet /new is not a meeting', input: 'https://meet.google.com/new', platform: null, identity: 'url:meet.google.com/new', url: 'https://meet.google.com/new' },
    { name: 'meet code too short', input: 'https://meet.google.com/abc-defg-hi', platform: null, identity: 'url:meet.google.com/abc-defg-hi', url: 'https://meet.google.com/abc-defg-hi' },

    // Microsoft Teams
    { name: 'teams meetup-join encoded', input: TEAMS_JOIN, platform: 'microsoft_teams', identity: `microsoft_teams:${TEAMS_THREAD}`, url: TEAMS_JOIN },
    { name: 'teams meetup-join decoded thread id', input: `https://teams.microsoft.com/l/meetup-join/${TEAMS_THREAD}/0?${TEAMS_CONTEXT}`, platform: 'microsoft_teams', identity: `microsoft_teams:${TEAMS_THREAD}`, url: `https://teams.microsoft.com/l/meetup-join/${TEAMS_THREAD}/0?${TEAMS_CONTEXT}` },
    { name: 'teams meetup-join upper-case escapes', input: 'https://teams.microsoft.com/l/meetup-join/19%3Ameeting_AbCdEf%40thread.v2/0', platform: 'microsoft_teams', identity: 'microsoft_teams:19:meeting_AbCdEf@thread.v2', url: 'https://teams.microsoft.com/l/meetup-join/19%3Ameeting_AbCdEf%40thread.v2/0' },
    { name: 'teams meet id with passcode', input: 'https://teams.microsoft.com/meet/2345678901234?p=AbCdEfGhIj', platform: 'microsoft_teams', identity: 'microsoft_teams:meet:2345678901234', url: 'https://teams.microsoft.com/meet/2345678901234?p=AbCdEfGhIj' },
    { name: 'teams live meet', input: 'https://teams.live.com/meet/9345678901234?p=xYz123', platform: 'microsoft_teams', identity: 'microsoft_teams:meet:9345678901234', url: 'https://teams.live.com/meet/9345678901234?p=xYz123' },
    { name: 'teams GCC High', input: 'https://gov.teams.microsoft.us/l/meetup-join/19%3ameeting_Zm9vYmFy%40thread.v2/0?context=%7b%7d', platform: 'microsoft_teams', identity: 'microsoft_teams:19:meeting_Zm9vYmFy@thread.v2', url: 'https://gov.teams.microsoft.us/l/meetup-join/19%3ameeting_Zm9vYmFy%40thread.v2/0?context=%7b%7d' },
    { name: 'teams DoD meet', input: 'https://dod.teams.microsoft.us/meet/1112223334445?p=Qq', platform: 'microsoft_teams', identity: 'microsoft_teams:meet:1112223334445', url: 'https://dod.teams.microsoft.us/meet/1112223334445?p=Qq' },
    {
      name: 'teams launcher deep link',
      input: 'https://teams.microsoft.com/dl/launcher/launcher.html?url=%2F_%23%2Fl%2Fmeetup-join%2F19%253ameeting_NjY4ZTBjZmQtYjQ2Ny00ZmE1LWI1ZmEtMzM5ZTk2ZDM1YmEx%2540thread.v2%2F0%3Fcontext%3D%257b%257d&type=meetup-join&directDl=true&msLaunch=true',
      platform: 'microsoft_teams',
      identity: `microsoft_teams:${TEAMS_THREAD}`,
      url: 'https://teams.microsoft.com/dl/launcher/launcher.html?url=%2F_%23%2Fl%2Fmeetup-join%2F19%253ameeting_NjY4ZTBjZmQtYjQ2Ny00ZmE1LWI1ZmEtMzM5ZTk2ZDM1YmEx%2540thread.v2%2F0%3Fcontext%3D%257b%257d&type=meetup-join&directDl=true&msLaunch=true',
    },
    { name: 'teams hash route', input: `https://teams.microsoft.com/_#/l/meetup-join/${TEAMS_THREAD}/0`, platform: 'microsoft_teams', identity: `microsoft_teams:${TEAMS_THREAD}`, url: `https://teams.microsoft.com/_#/l/meetup-join/${TEAMS_THREAD}/0` },
    { name: 'teams channel link is not a meeting', input: 'https://teams.microsoft.com/l/channel/19%3aabc%40thread.tacv2/General', platform: null, identity: 'url:teams.microsoft.com/l/channel/19%3aabc%40thread.tacv2/General', url: 'https://teams.microsoft.com/l/channel/19%3aabc%40thread.tacv2/General' },

    // Webex
    { name: 'webex personal room', input: 'https://acme.webex.com/meet/Jane.Doe', platform: 'webex', identity: 'webex:acme:meet:jane.doe', url: 'https://acme.webex.com/meet/Jane.Doe' },
    { name: 'webex my. personal room', input: 'https://acme.my.webex.com/meet/jdoe', platform: 'webex', identity: 'webex:acme.my:meet:jdoe', url: 'https://acme.my.webex.com/meet/jdoe' },
    { name: 'webex j.php MTID', input: 'https://acme.webex.com/acme/j.php?MTID=m4f2a1b3c5d6e7f8091a2b3c4d5e6f708', platform: 'webex', identity: 'webex:mtid:m4f2a1b3c5d6e7f8091a2b3c4d5e6f708', url: 'https://acme.webex.com/acme/j.php?MTID=m4f2a1b3c5d6e7f8091a2b3c4d5e6f708' },
    { name: 'webex join name', input: 'https://acme.webex.com/join/JDoe', platform: 'webex', identity: 'webex:acme:join:jdoe', url: 'https://acme.webex.com/join/JDoe' },
    { name: 'webex j.php without MTID keeps sorted query', input: 'https://Acme.webex.com/Acme/j.php?UID=789&ED=123456&RT=MiMxMQ%3D%3D', platform: 'webex', identity: 'webex:acme.webex.com/acme/j.php?ED=123456&RT=MiMxMQ%3D%3D&UID=789', url: 'https://Acme.webex.com/Acme/j.php?UID=789&ED=123456&RT=MiMxMQ%3D%3D' },
    { name: 'webex help page is not a meeting', input: 'https://help.webex.com/en-us/article/nul0wut/Webex-Meetings', platform: null, identity: 'url:help.webex.com/en-us/article/nul0wut/Webex-Meetings', url: 'https://help.webex.com/en-us/article/nul0wut/Webex-Meetings' },

    // GoToMeeting
    { name: 'gotomeeting global', input: 'https://global.gotomeeting.com/join/123456789', platform: 'gotomeeting', identity: 'gotomeeting:123456789', url: 'https://global.gotomeeting.com/join/123456789' },
    { name: 'gotomeeting www', input: 'https://www.gotomeeting.com/join/987654321', platform: 'gotomeeting', identity: 'gotomeeting:987654321', url: 'https://www.gotomeeting.com/join/987654321' },
    { name: 'goto meet', input: 'https://meet.goto.com/123456789', platform: 'gotomeeting', identity: 'gotomeeting:123456789', url: 'https://meet.goto.com/123456789' },
    { name: 'goto app meeting', input: 'https://app.goto.com/meeting/123456789', platform: 'gotomeeting', identity: 'gotomeeting:123456789', url: 'https://app.goto.com/meeting/123456789' },

    // BlueJeans
    { name: 'bluejeans id', input: 'https://bluejeans.com/123456789', platform: 'bluejeans', identity: 'bluejeans:123456789', url: 'https://bluejeans.com/123456789' },
    { name: 'bluejeans id with passcode', input: 'https://bluejeans.com/123456789/4321', platform: 'bluejeans', identity: 'bluejeans:123456789', url: 'https://bluejeans.com/123456789/4321' },
    { name: 'bluejeans webrtc', input: 'https://www.bluejeans.com/123456789/4321/webrtc', platform: 'bluejeans', identity: 'bluejeans:123456789', url: 'https://www.bluejeans.com/123456789/4321/webrtc' },

    // Whereby
    { name: 'whereby room', input: 'https://whereby.com/Team-Room', platform: 'whereby', identity: 'whereby:team-room', url: 'https://whereby.com/Team-Room' },
    { name: 'whereby reserved /information', input: 'https://whereby.com/information', platform: null, identity: 'url:whereby.com/information', url: 'https://whereby.com/information' },
    { name: 'whereby reserved /user', input: 'https://whereby.com/user', platform: null, identity: 'url:whereby.com/user', url: 'https://whereby.com/user' },

    // Unknown platforms
    { name: 'generic url drops query, fragment, trailing slash', input: 'https://example.com/Room/42/?x=1#frag', platform: null, identity: 'url:example.com/Room/42', url: 'https://example.com/Room/42/?x=1#frag' },
    { name: 'generic url keeps port, lowercases host only', input: 'https://Jitsi.Example.org:8443/MyRoom', platform: null, identity: 'url:jitsi.example.org:8443/MyRoom', url: 'https://Jitsi.Example.org:8443/MyRoom' },
    { name: 'generic root url', input: 'https://example.com/', platform: null, identity: 'url:example.com', url: 'https://example.com/' },
  ];

  for (const c of cases) {
    test(c.name, () => assertLink(parseMeetingLink(c.input), c));
  }
});

describe('parseMeetingLink: rejects non-http input', () => {
  const rejected = [
    'ftp://zoom.us/j/123',
    'javascript:alert(1)',
    '/j/123',
    'zoom.us/j/123',
    '',
    '   ',
    'mailto:jane@zoom.us',
    'https://',
    'http:zoom.us/j/123',
    'https://zoom.us/j/123 and more text',
    'tel:+16465588656,,85412345678#',
  ];
  for (const input of rejected) {
    test(`null for ${JSON.stringify(input)}`, () => assert.equal(parseMeetingLink(input), null));
  }
});

describe('safe-link wrappers', () => {
  const proofpointV2 =
    'https://urldefense.proofpoint.com/v2/url?u=https-3A__meet.google.com_abc-2Ddefg-2Dhij-3Fauthuser-3D0&d=DwMFaQ&c=euGZstcaTDllvimEN8b7jXrwqOf-v5A_CdpgnVfiiMM&r=abc&m=def&s=ghi&e=';
  const cases: LinkCase[] = [
    {
      name: 'Microsoft Safe Links around zoom',
      input: safeLinksWrap('https://us02web.zoom.us/j/85412345678?pwd=aBcD.1'),
      platform: 'zoom', identity: 'zoom:85412345678', url: 'https://us02web.zoom.us/j/85412345678?pwd=aBcD.1',
    },
    {
      name: 'Safe Links around teams keeps context',
      input: safeLinksWrap(TEAMS_JOIN),
      platform: 'microsoft_teams', identity: `microsoft_teams:${TEAMS_THREAD}`, url: TEAMS_JOIN,
    },
    {
      name: 'Proofpoint v2 around meet',
      input: proofpointV2,
      platform: 'google_meet', identity: 'google_meet:abc-defg-hij', url: 'https://meet.google.com/abc-defg-hij?authuser=0',
    },
    {
      name: 'Proofpoint v3 around teams meet',
      input: 'https://urldefense.com/v3/__https://teams.microsoft.com/meet/2345678901234?p=AbCd__;!!ACWV5N9M2RV99hQ!Lx3rXW$',
      platform: 'microsoft_teams', identity: 'microsoft_teams:meet:2345678901234', url: 'https://teams.microsoft.com/meet/2345678901234?p=AbCd',
    },
    {
      name: 'Proofpoint v3 single replacement',
      input: 'https://urldefense.com/v3/__https://zoom.us/j/85412345678?pwd=ab*cd__;JA!!ACWV5N9M2RV99hQ!xyz$',
      platform: 'zoom', identity: 'zoom:85412345678', url: 'https://zoom.us/j/85412345678?pwd=ab$cd',
    },
    {
      name: 'Proofpoint v3 run replacement',
      input: 'https://urldefense.com/v3/__https://zoom.us/j/85412345678?pwd=a**Ab__;JCQ!!ACWV!xyz$',
      platform: 'zoom', identity: 'zoom:85412345678', url: 'https://zoom.us/j/85412345678?pwd=a$$b',
    },
    {
      name: 'Mimecast with url parameter',
      input: 'https://eu-api.mimecast.com/s/redirect?url=https%3A%2F%2Fwhereby.com%2Fteam-room',
      platform: 'whereby', identity: 'whereby:team-room', url: 'https://whereby.com/team-room',
    },
    {
      name: 'Mimecast protect link cannot be unwrapped',
      input: 'https://protect-eu.mimecast.com/s/AbCdEfGhIjKl?domain=zoom.us',
      platform: null, identity: 'url:protect-eu.mimecast.com/s/AbCdEfGhIjKl', url: 'https://protect-eu.mimecast.com/s/AbCdEfGhIjKl?domain=zoom.us',
    },
    {
      name: 'Google calendar redirect, partially encoded',
      input: 'https://www.google.com/url?q=https://us02web.zoom.us/j/85412345678?pwd%3DaBcD.1&sa=D&source=calendar&ust=1700000000000000&usg=AOvVaw0abc',
      platform: 'zoom', identity: 'zoom:85412345678', url: 'https://us02web.zoom.us/j/85412345678?pwd=aBcD.1',
    },
    {
      name: 'nested: Safe Links around Google redirect around webex',
      input: safeLinksWrap(googleWrap('https://acme.webex.com/meet/Jane.Doe')),
      platform: 'webex', identity: 'webex:acme:meet:jane.doe', url: 'https://acme.webex.com/meet/Jane.Doe',
    },
  ];
  for (const c of cases) {
    test(c.name, () => assertLink(parseMeetingLink(c.input), c));
  }

  test('non-wrapper is returned unchanged', () => {
    assert.equal(unwrapSafeLink(ZOOM_PWD), ZOOM_PWD);
  });

  test('wrapper whose target is not a web link is kept', () => {
    const wrapped = googleWrap('javascript:alert(1)');
    assert.equal(unwrapSafeLink(wrapped), wrapped);
  });

  test('unwrapping stops after five levels', () => {
    const target = 'https://zoom.us/j/5551234567';
    let wrapped = target;
    for (let i = 0; i < 7; i++) wrapped = googleWrap(wrapped);
    assert.equal(unwrapSafeLink(wrapped), googleWrap(googleWrap(target)));
  });
});

describe('identity equivalence', () => {
  const sameMeeting: Array<{ name: string; urls: string[]; identity: string }> = [
    {
      name: 'zoom across subdomains, pwd and dashes',
      identity: 'zoom:85412345678',
      urls: [
        'https://zoom.us/j/85412345678',
        ZOOM_PWD,
        'https://us06web.zoom.us/j/85412345678?pwd=other',
        'https://acme.zoom.us/j/854-1234-5678',
        'https://app.zoom.us/wc/join/85412345678',
        safeLinksWrap('https://zoom.us/j/85412345678?pwd=x'),
      ],
    },
    {
      name: 'meet with and without dashes, any case',
      identity: 'google_meet:abc-defg-hij',
      urls: [
        'https://meet.google.com/abc-defg-hij',
        'https://meet.google.com/ABCDEFGHIJ',
        'https://meet.google.com/Abc-Defg-Hij?authuser=2',
      ],
    },
    {
      name: 'teams thread id encoded, decoded, wrapped',
      identity: `microsoft_teams:${TEAMS_THREAD}`,
      urls: [TEAMS_JOIN, `https://teams.microsoft.com/l/meetup-join/${TEAMS_THREAD}/0`, safeLinksWrap(TEAMS_JOIN)],
    },
  ];
  for (const group of sameMeeting) {
    test(group.name, () => {
      for (const url of group.urls) assert.equal(parseMeetingLink(url)?.identity, group.identity, url);
    });
  }

  test('different meetings give different identities', () => {
    const urls = [
      'https://zoom.us/j/85412345678',
      'https://zoom.us/j/85412345679',
      'https://zoom.us/my/85412345678',
      'https://meet.google.com/abc-defg-hij',
      'https://meet.google.com/abc-defg-hik',
      'https://teams.microsoft.com/l/meetup-join/19%3ameeting_AbCd%40thread.v2/0',
      'https://teams.microsoft.com/l/meetup-join/19%3ameeting_abcd%40thread.v2/0',
      'https://teams.microsoft.com/meet/2345678901234',
      'https://acme.webex.com/meet/jdoe',
      'https://other.webex.com/meet/jdoe',
      'https://acme.webex.com/acme/j.php?ED=1',
      'https://acme.webex.com/acme/j.php?ED=2',
      'https://global.gotomeeting.com/join/123456789',
      'https://bluejeans.com/123456789',
      'https://whereby.com/team-room',
      'https://example.com/room',
    ];
    const identities = urls.map((url) => parseMeetingLink(url)?.identity);
    assert.equal(new Set(identities).size, urls.length, identities.join('\n'));
    assert.ok(identities.every((identity) => identity !== undefined));
  });
});

describe('findMeetingLink: free text and HTML', () => {
  const cases: Array<LinkCase & { input: string }> = [
    {
      name: 'zoom followed by a full stop',
      input: 'Join Zoom Meeting https://us02web.zoom.us/j/85412345678?pwd=abc. Meeting ID: 854 1234 5678',
      platform: 'zoom', identity: 'zoom:85412345678', url: 'https://us02web.zoom.us/j/85412345678?pwd=abc',
    },
    {
      name: 'meet inside parentheses',
      input: 'Standup (see https://meet.google.com/abc-defg-hij)',
      platform: 'google_meet', identity: 'google_meet:abc-defg-hij', url: 'https://meet.google.com/abc-defg-hij',
    },
    {
      name: 'schemeless zoom location',
      input: 'zoom.us/j/5551234567',
      platform: 'zoom', identity: 'zoom:5551234567', url: 'https://zoom.us/j/5551234567',
    },
    {
      name: 'schemeless meet after room name',
      input: 'Room 4B / meet.google.com/abc-defg-hij',
      platform: 'google_meet', identity: 'google_meet:abc-defg-hij', url: 'https://meet.google.com/abc-defg-hij',
    },
    {
      name: 'schemeless www subdomain with comma',
      input: 'Dial in or use www.zoom.us/j/5551234567, thanks',
      platform: 'zoom', identity: 'zoom:5551234567', url: 'https://www.zoom.us/j/5551234567',
    },
    {
      name: 'html anchor with &amp; in href and hidden behind text',
      input: '<p>Join: <a href="https://us02web.zoom.us/j/85412345678?pwd=abc&amp;from=addon">Click here</a></p>',
      platform: 'zoom', identity: 'zoom:85412345678', url: 'https://us02web.zoom.us/j/85412345678?pwd=abc&from=addon',
    },
    {
      name: 'html anchor whose href is a safe link',
      input: `<div>Microsoft Teams meeting</div><div><a href="${safeLinksWrap(TEAMS_JOIN).replace(/&/g, '&amp;')}" target="_blank">Join the meeting now</a></div>`,
      platform: 'microsoft_teams', identity: `microsoft_teams:${TEAMS_THREAD}`, url: TEAMS_JOIN,
    },
    {
      name: 'single-quoted href',
      input: "<a href='https://meet.google.com/xyz-abcd-efg'>Video call</a>",
      platform: 'google_meet', identity: 'google_meet:xyz-abcd-efg', url: 'https://meet.google.com/xyz-abcd-efg',
    },
    {
      name: 'url before <br> and &nbsp;',
      input: 'Link:&nbsp;https://zoom.us/j/5551234567?pwd=Q1&amp;uname=x<br>Passcode: 123',
      platform: 'zoom', identity: 'zoom:5551234567', url: 'https://zoom.us/j/5551234567?pwd=Q1&uname=x',
    },
    {
      name: 'plain-text autolink in angle brackets',
      input: 'Join Microsoft Teams Meeting <https://teams.microsoft.com/meet/2345678901234?p=AbCd>',
      platform: 'microsoft_teams', identity: 'microsoft_teams:meet:2345678901234', url: 'https://teams.microsoft.com/meet/2345678901234?p=AbCd',
    },
    {
      name: 'markdown link',
      input: 'Agenda in doc. [Join](https://acme.webex.com/meet/jdoe)!',
      platform: 'webex', identity: 'webex:acme:meet:jdoe', url: 'https://acme.webex.com/meet/jdoe',
    },
    {
      name: 'quoted link followed by question mark',
      input: 'Can we use "https://whereby.com/team-room"?',
      platform: 'whereby', identity: 'whereby:team-room', url: 'https://whereby.com/team-room',
    },
    {
      name: 'skips non-meeting links before the meeting',
      input: 'Agenda: https://docs.example.com/agenda; download https://zoom.us/download then join https://zoom.us/j/5551234567!',
      platform: 'zoom', identity: 'zoom:5551234567', url: 'https://zoom.us/j/5551234567',
    },
    {
      name: 'first known platform wins',
      input: 'Primary https://meet.google.com/abc-defg-hij backup https://zoom.us/j/5551234567',
      platform: 'google_meet', identity: 'google_meet:abc-defg-hij', url: 'https://meet.google.com/abc-defg-hij',
    },
    {
      name: 'proofpoint v3 in a sentence',
      input: 'Join at https://urldefense.com/v3/__https://global.gotomeeting.com/join/123456789__;!!ACWV5N9M2RV99hQ!abc$.',
      platform: 'gotomeeting', identity: 'gotomeeting:123456789', url: 'https://global.gotomeeting.com/join/123456789',
    },
    {
      name: 'google redirect in calendar html',
      input: `<a href="${googleWrap('https://bluejeans.com/123456789/4321').replace(/&/g, '&amp;')}">https://bluejeans.com/123456789/4321</a>`,
      platform: 'bluejeans', identity: 'bluejeans:123456789', url: 'https://bluejeans.com/123456789/4321',
    },
    {
      name: 'teams link with unencoded JSON context',
      input: 'Join: https://teams.microsoft.com/l/meetup-join/19%3ameeting_AbCd%40thread.v2/0?context={"Tid":"t-1","Oid":"o-2"} now',
      platform: 'microsoft_teams', identity: 'microsoft_teams:19:meeting_AbCd@thread.v2',
      url: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_AbCd%40thread.v2/0?context={"Tid":"t-1","Oid":"o-2"}',
    },
    {
      name: 'encoded teams link in Outlook plain text keeps full context',
      input: `________________\nMicrosoft Teams meeting\nJoin on your computer or mobile app\nClick here to join the meeting<${TEAMS_JOIN}>\nMeeting ID: 234 567 890`,
      platform: 'microsoft_teams', identity: `microsoft_teams:${TEAMS_THREAD}`, url: TEAMS_JOIN,
    },
  ];
  for (const c of cases) {
    test(c.name, () => assertLink(findMeetingLink(c.input), c));
  }

  const noMeeting = [
    'Lunch at the cafe; menu at https://example.com/menu.',
    'Email jane@zoom.us for the dial-in',
    'We moved from zoom.us to something else',
    'https://zoom.us/download and https://meet.google.com/new',
    '<a href="mailto:jane@example.com">jane@example.com</a>',
    'notzoom.us/j/123',
    '',
  ];
  for (const input of noMeeting) {
    test(`no meeting in ${JSON.stringify(input)}`, () => assert.equal(findMeetingLink(input), null));
  }
});

describe('stripHtml', () => {
  const cases: Array<{ name: string; input: string; expected: string }> = [
    { name: 'tags and nbsp', input: '<p>Hello&nbsp;<b>world</b></p>', expected: 'Hello world' },
    { name: 'all listed entities', input: '&amp; &lt; &gt; &quot; &#39; &#65; &#x42;', expected: `& < > " ' A B` },
    { name: 'decodes once only', input: 'a &amp;lt; b', expected: 'a &lt; b' },
    { name: 'unknown entity left alone', input: 'x &bogus; y', expected: 'x &bogus; y' },
    { name: 'anchor href kept next to text', input: 'Join <a href="https://zoom.us/j/1?a=1&amp;b=2">here</a>.', expected: 'Join here (https://zoom.us/j/1?a=1&b=2).' },
    { name: 'anchor whose text is the link is not duplicated', input: '<a href="https://meet.google.com/abc-defg-hij">https://meet.google.com/abc-defg-hij</a>', expected: 'https://meet.google.com/abc-defg-hij' },
    { name: 'mailto anchor keeps only text', input: '<a href="mailto:x@y.com">x@y.com</a>', expected: 'x@y.com' },
    { name: 'block tags become line breaks', input: '<div>one</div><div>two<br/>three</div>', expected: 'one\ntwo\nthree' },
    { name: 'plain-text autolink is not a tag', input: 'Link <https://zoom.us/j/1>', expected: 'Link <https://zoom.us/j/1>' },
    { name: 'script, style and comments removed', input: '<style>p{color:red}</style><!-- hidden --><script>alert(1)</script>Visible', expected: 'Visible' },
    { name: 'attribute with > inside quotes', input: '<span title="a > b">text</span>', expected: 'text' },
    { name: 'outlook o:p markup', input: '<p class=MsoNormal>Meeting<o:p></o:p></p>', expected: 'Meeting' },
    { name: 'unclosed anchor still surfaces its href', input: 'Please <a href="https://zoom.us/j/1">join', expected: 'Please join (https://zoom.us/j/1)' },
    { name: 'anchor text wrapped in inline tags is compared without them', input: '<a href="https://zoom.us/j/1"><span>https://zoom.us/j/1</span></a>', expected: 'https://zoom.us/j/1' },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(stripHtml(c.input), c.expected));
  }
});

describe('hostile input stays linear', () => {
  // Event descriptions can come from outside the organisation. With a
  // quadratic pattern each of these takes tens of seconds; linear code takes
  // milliseconds, so the generous bound below separates them without flaking.
  // (A node:test `timeout` cannot interrupt synchronous work, hence the clock.)
  const inputs: Array<[string, string]> = [
    ['unclosed tags', '<a '.repeat(60_000)],
    ['unclosed anchors', '<a>x'.repeat(50_000)],
    ['unterminated quoted attributes', '<a href="'.repeat(20_000)],
    ['unclosed comments', '<!--'.repeat(50_000)],
    ['unclosed scripts', '<script>'.repeat(25_000)],
    ['long run of closing parentheses', `https://example.com/x${')'.repeat(200_000)}`],
    ['unbalanced braces between quotes', 'https://a.example/?c={"'.repeat(12_000)],
  ];
  for (const [name, input] of inputs) {
    test(name, () => {
      const started = performance.now();
      assert.equal(findMeetingLink(input), null);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 2_000, `took ${Math.round(elapsed)} ms`);
    });
  }
});

describe('resolveMeetingLink priority', () => {
  test('explicit meetingUrl of unknown platform beats a zoom location', () => {
    assertLink(resolveMeetingLink({ meetingUrl: 'https://jitsi.example.org/DailySync', location: 'https://zoom.us/j/5551234567' }), {
      url: 'https://jitsi.example.org/DailySync', platform: null, identity: 'url:jitsi.example.org/DailySync',
    });
  });
  test('location beats description', () => {
    assertLink(resolveMeetingLink({ location: 'meet.google.com/abc-defg-hij', description: 'https://zoom.us/j/5551234567' }), {
      url: 'https://meet.google.com/abc-defg-hij', platform: 'google_meet', identity: 'google_meet:abc-defg-hij',
    });
  });
  test('description used when location has no meeting link', () => {
    assertLink(resolveMeetingLink({ meetingUrl: null, location: 'Room 5 https://maps.example.com/room5', description: '<p><a href="https://zoom.us/j/5551234567?pwd=x">Join</a></p>' }), {
      url: 'https://zoom.us/j/5551234567?pwd=x', platform: 'zoom', identity: 'zoom:5551234567',
    });
  });
  test('invalid meetingUrl falls through to location', () => {
    assertLink(resolveMeetingLink({ meetingUrl: 'not a url', location: 'https://teams.live.com/meet/9345678901234?p=x' }), {
      url: 'https://teams.live.com/meet/9345678901234?p=x', platform: 'microsoft_teams', identity: 'microsoft_teams:meet:9345678901234',
    });
  });
  test('empty meetingUrl falls through', () => {
    assertLink(resolveMeetingLink({ meetingUrl: '  ', description: 'https://bluejeans.com/123456789' }), {
      url: 'https://bluejeans.com/123456789', platform: 'bluejeans', identity: 'bluejeans:123456789',
    });
  });
  test('scheme-less known meetingUrl is still accepted', () => {
    assertLink(resolveMeetingLink({ meetingUrl: 'zoom.us/j/5551234567' }), {
      url: 'https://zoom.us/j/5551234567', platform: 'zoom', identity: 'zoom:5551234567',
    });
  });
  test('explicit meetingUrl is unwrapped', () => {
    assertLink(resolveMeetingLink({ meetingUrl: safeLinksWrap('https://meet.google.com/abc-defg-hij') }), {
      url: 'https://meet.google.com/abc-defg-hij', platform: 'google_meet', identity: 'google_meet:abc-defg-hij',
    });
  });
  test('plain non-meeting links in location and description give null', () => {
    assert.equal(resolveMeetingLink({ location: 'https://example.com/office', description: 'See https://example.com/doc' }), null);
  });
  test('nothing at all gives null', () => {
    assert.equal(resolveMeetingLink({}), null);
  });
});

describe('conferenceLinkToFollow: the calendar\'s own conference link against the links people wrote', () => {
  const meet = 'https://meet.google.com/abc-defg-hij';
  const zoom = 'https://us02web.zoom.us/j/85412345678?pwd=abc';
  const teamsLong = 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_AbCd%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d';
  const teamsShort = 'https://teams.microsoft.com/meet/2345678901234?p=AbCdEfGhIj';

  test('a Meet link Google added yields to a Zoom link in the location', () => {
    assert.equal(conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: `Zoom: ${zoom}`, description: null }), zoom);
  });
  test('... and to a pasted Zoom invitation in the description (HTML, as Google stores it)', () => {
    const description = `<p>Hi all,</p><p>Join Zoom Meeting<br><a href="${zoom.replace('&', '&amp;')}">${zoom.replace('&', '&amp;')}</a></p><p>Meeting ID: 854 1234 5678</p>`;
    assert.equal(conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: 'HQ, room 4', description }), zoom);
  });
  test('the location is read before the description', () => {
    const webex = 'https://acme.webex.com/meet/jdoe';
    assert.equal(conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: webex, description: zoom }), webex);
  });
  test('a Teams meeting Outlook added yields to a Zoom or Meet link in the body; the Teams block of the body does not count', () => {
    const body = `<div>Let us use Zoom this time: <a href="${zoom}">join</a></div><div>________________</div><div>Microsoft Teams meeting <a href="${teamsLong}">Join the meeting now</a></div>`;
    assert.equal(conferenceLinkToFollow({ conferenceUrl: teamsLong, calendarPlatform: 'microsoft_teams', location: 'Microsoft Teams Meeting', description: body }), zoom);
    const teamsFirst = `<div>Microsoft Teams meeting <a href="${teamsLong}">Join the meeting now</a></div><div>or on Meet: ${meet}</div>`;
    assert.equal(conferenceLinkToFollow({ conferenceUrl: teamsLong, calendarPlatform: 'microsoft_teams', location: null, description: teamsFirst }), meet);
  });
  test('a conference of another platform than the calendar\'s own (the Zoom add-on in Google) stays', () => {
    assert.equal(conferenceLinkToFollow({ conferenceUrl: zoom, calendarPlatform: 'google_meet', location: meet, description: 'https://acme.webex.com/meet/jdoe' }), zoom);
  });
  test('links of the calendar\'s own platform only: the conference link stays (two spellings of one Teams meeting stay one link)', () => {
    assert.equal(conferenceLinkToFollow({ conferenceUrl: teamsLong, calendarPlatform: 'microsoft_teams', location: teamsShort, description: `Join: ${teamsShort}` }), teamsLong);
    assert.equal(conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: 'https://meet.google.com/xyz-abcd-efg', description: null }), meet);
  });
  test('no known link in the text, an unknown link, or no conference link: nothing changes', () => {
    assert.equal(conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: 'https://example.com/room', description: 'See https://example.com/doc' }), meet);
    assert.equal(conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: null, description: null }), meet);
    assert.equal(conferenceLinkToFollow({ conferenceUrl: 'https://jitsi.example.org/Daily', calendarPlatform: 'google_meet', location: zoom, description: null }), 'https://jitsi.example.org/Daily');
    assert.equal(conferenceLinkToFollow({ conferenceUrl: null, calendarPlatform: 'google_meet', location: zoom, description: null }), null);
  });
  test('a personal room in the description (a signature, a forwarded thread) does not count; in the location it does', () => {
    const signature = `<div>Microsoft Teams meeting <a href="${teamsLong}">Join the meeting now</a></div><div>--<br>Alice Smith | my Zoom room: https://us02web.zoom.us/my/alice.smith</div>`;
    assert.equal(conferenceLinkToFollow({ conferenceUrl: teamsLong, calendarPlatform: 'microsoft_teams', location: 'Microsoft Teams Meeting', description: signature }), teamsLong);
    assert.equal(conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: null, description: 'Or my Webex room: https://acme.webex.com/meet/jdoe' }), meet);
    // A meeting's own link past a personal room in the description still counts.
    assert.equal(conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: null, description: `Alice's room https://zoom.us/my/alice, but today: ${zoom}` }), zoom);
    assert.equal(conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: 'https://zoom.us/my/alice', description: null }), 'https://zoom.us/my/alice');
  });
  test('a mention of the platform that is no meeting link (an e-mail address, a bare host) does not count', () => {
    assert.equal(conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: 'jane@zoom.us', description: 'We used to meet on zoom.us, not any more' }), meet);
  });
  test('the link it gives resolves as the event\'s meeting, so the identity follows the chosen meeting', () => {
    const chosen = conferenceLinkToFollow({ conferenceUrl: meet, calendarPlatform: 'google_meet', location: zoom, description: null });
    assertLink(resolveMeetingLink({ meetingUrl: chosen, location: zoom, description: null }), { url: zoom, platform: 'zoom', identity: 'zoom:85412345678' });
  });
});

describe('scheduleGroupOf', () => {
  const cases: Array<[MeetingPlatform | null, ScheduleGroup]> = [
    ['zoom', 'zoom'],
    ['google_meet', 'google_meet'],
    ['microsoft_teams', 'microsoft_teams'],
    ['webex', 'default'],
    ['gotomeeting', 'default'],
    ['bluejeans', 'default'],
    ['whereby', 'default'],
    [null, 'default'],
  ];
  for (const [platform, group] of cases) {
    test(`${String(platform)} -> ${group}`, () => assert.equal(scheduleGroupOf(platform), group));
  }
});

describe('isHttpUrl', () => {
  const cases: Array<[string, boolean]> = [
    ['https://zoom.us/j/1', true],
    ['http://example.com', true],
    ['HTTPS://EXAMPLE.COM/x', true],
    ['ftp://example.com', false],
    ['javascript:alert(1)', false],
    ['//example.com/x', false],
    ['example.com', false],
    ['https://', false],
    ['http:example.com', false],
    ['not a url', false],
  ];
  for (const [value, expected] of cases) {
    test(`${JSON.stringify(value)} -> ${expected}`, () => assert.equal(isHttpUrl(value), expected));
  }
});

describe('checkMeetingUrl: where a bot may be sent', () => {
  test('meeting links on public hosts pass, including a public IP literal and a port', () => {
    for (const url of [
      'https://zoom.us/j/85412345678', ZOOM_PWD, TEAMS_JOIN, 'https://meet.google.com/abc-defg-hij', 'https://Jitsi.Example.org:8443/MyRoom',
      'https://meet.jit.si./Room', 'http://93.184.215.14/room', 'https://[2606:4700:4700::1111]/room', 'https://xn--bcher-kva.de/raum',
    ]) assert.deepEqual(checkMeetingUrl(url), { ok: true }, url);
  });

  test('IP literals of non-public ranges are refused in every spelling the URL parser accepts', () => {
    for (const url of [
      'http://127.0.0.1/', 'http://127.1/', 'http://0x7f.1/', 'http://2130706433/', 'http://0/', 'http://0177.0.0.1/', 'http://[::1]/',
      'http://[::ffff:7f00:1]/', 'http://[::ffff:127.0.0.1]/', 'http://[::7f00:1]/', 'http://[::a9fe:a9fe]/', 'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/', 'http://10.0.0.5:8080/room', 'http://192.168.1.1/', 'http://100.64.0.1/', 'http://[64:ff9b::a9fe:a9fe]/', 'http://[2002:7f00:1::]/',
    ]) {
      const result = checkMeetingUrl(url);
      assert.equal(result.ok, false, url);
      assert.match((result as { reason: string }).reason, /non-public address/, url);
    }
  });

  test('single-label and internal names are refused; their public look-alikes are not', () => {
    const refused = [
      'http://localhost/', 'http://LOCALHOST.:3000/', 'http://app.localhost/', 'http://intranet/', 'http://printer.local/', 'https://vc.corp.internal/room',
      'https://router.home.arpa/', 'http://meet.lan/', 'https://conf.intranet/', 'https://x.corp/', 'https://x.private/', 'https://x.home/',
      'https://box.localdomain/', 'https://svc.default.svc/', 'https://kubernetes.default/', 'https://api.prod.svc/j/1', 'https://zoom.test/j/1', 'https://meet.example/', 'https://a.invalid/', 'https://xyz.onion/', 'https://x.alt/',
      'https://1.0.0.127.in-addr.arpa/',
    ];
    for (const url of refused) {
      const result = checkMeetingUrl(url);
      assert.equal(result.ok, false, url);
      assert.match((result as { reason: string }).reason, /public host/, url);
    }
    for (const url of ['https://local.example.com/', 'https://internal.zoom.us/j/1', 'https://localhost.example.org/', 'https://example.com/', 'https://meet.home.example.net/']) {
      assert.deepEqual(checkMeetingUrl(url), { ok: true }, url);
    }
  });

  test('credentials in the URL and anything but an absolute http(s) URL are refused', () => {
    assert.match((checkMeetingUrl('https://user:secret@zoom.us/j/1') as { reason: string }).reason, /user name or password/);
    assert.match((checkMeetingUrl('https://user@zoom.us/j/1') as { reason: string }).reason, /user name or password/);
    for (const url of ['zoommtg://zoom.us/join?confno=1', 'ftp://zoom.us/', 'javascript:alert(1)', 'zoom.us/j/1', '', 'https://', 'http://exa mple.com/']) {
      assert.match((checkMeetingUrl(url) as { reason: string }).reason, /absolute http\(s\) URL/, url);
    }
  });
});

describe('the link a shared bot keeps', () => {
  test('a link with the passcode is kept over one of the same meeting without it, unless the client gave the new one', () => {
    const withPwd = 'https://us02web.zoom.us/j/85557770001?pwd=SECRETPWD';
    const bare = 'https://zoom.us/j/85557770001';
    assert.equal(carriesPasscode(withPwd), true);
    assert.equal(carriesPasscode(bare), false);
    assert.equal(carriesPasscode('https://zoom.us/j/85557770001?pwd='), false);
    assert.equal(linkForSharedBot(withPwd, bare, false), withPwd);
    assert.equal(linkForSharedBot(withPwd, bare, true), bare);
    // Both carry one: the newest (a passcode that changed).
    assert.equal(linkForSharedBot(withPwd, 'https://zoom.us/j/85557770001?pwd=NEW', false), 'https://zoom.us/j/85557770001?pwd=NEW');
    assert.equal(linkForSharedBot(bare, withPwd, false), withPwd);
    const teamsShort = 'https://teams.microsoft.com/meet/2345678901234?p=AbCdEf';
    assert.equal(carriesPasscode(teamsShort), true);
    assert.equal(linkForSharedBot(teamsShort, 'https://teams.microsoft.com/meet/2345678901234', false), teamsShort);
    // Meet has no passcode in its links: the newest.
    assert.equal(linkForSharedBot('https://meet.google.com/abc-defg-hij?authuser=1', 'https://meet.google.com/abc-defg-hij', false), 'https://meet.google.com/abc-defg-hij');
  });
});
