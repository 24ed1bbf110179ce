// Connecting a calendar: the checks before sending, the request, where a refusal shows, and the words after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiFailure } from './api-failure.ts';
import { availableCalendars, checkCalendarChoice, checkDraft, isChoiceUnchanged, feedRefusalWords, clearedDraft, connectProblem, connectRequest, EMPTY_DRAFT, firstSyncWords, switchedDraft, type ConnectAnswer } from './connect-calendar.ts';
import { connectionNames, feedHost } from './connection-names.ts';
import type { Connection } from './types.ts';

const account = { ...EMPTY_DRAFT, kind: 'google' as const, clientId: 'id-1', clientSecret: 's3cret', refreshToken: '1//tok' };

test('a feed\'s address must be given, as https, http or webcal', () => {
  assert.deepEqual(checkDraft({ ...EMPTY_DRAFT, icsUrl: '  ' }), { field: 'icsUrl', text: 'Enter the feed\'s address.' });
  assert.equal(checkDraft({ ...EMPTY_DRAFT, icsUrl: 'ftp://feeds.example/a.ics' })?.field, 'icsUrl');
  assert.equal(checkDraft({ ...EMPTY_DRAFT, icsUrl: 'feeds.example/a.ics' })?.field, 'icsUrl');
  assert.match(checkDraft({ ...EMPTY_DRAFT, icsUrl: 'https://exa mple/a.ics' })?.text ?? '', /not a web address/);
  for (const url of ['https://feeds.example/a.ics', 'http://feeds.example/a.ics', 'webcal://feeds.example/a.ics', ' WEBCALS://feeds.example/a.ics ']) {
    assert.equal(checkDraft({ ...EMPTY_DRAFT, icsUrl: url }), null, url);
  }
});

test('an account needs its client id, client secret and refresh token, the first missing one named', () => {
  assert.equal(checkDraft(account), null);
  assert.deepEqual(checkDraft({ ...account, clientId: '' }), { field: 'clientId', text: 'Enter the client id.' });
  assert.deepEqual(checkDraft({ ...account, clientSecret: ' ', refreshToken: '' }), { field: 'clientSecret', text: 'Enter the client secret.' });
  assert.deepEqual(checkDraft({ ...account, kind: 'outlook', refreshToken: '' }), { field: 'refreshToken', text: 'Enter the refresh token.' });
});

test('each kind goes to its API route with the API\'s field names; an Outlook account already connected is connected again', () => {
  assert.deepEqual(connectRequest({ ...EMPTY_DRAFT, icsUrl: ' webcal://feeds.example/a.ics ' }), { path: '/calendar/create_ics_calendar', body: { ics_url: 'webcal://feeds.example/a.ics' } });
  assert.deepEqual(connectRequest(account), { path: '/calendar/create_calendar', body: { google_client_id: 'id-1', google_client_secret: 's3cret', google_refresh_token: '1//tok' } });
  assert.deepEqual(connectRequest({ ...account, kind: 'outlook' }), {
    path: '/calendar/create_outlook_calendar', body: { microsoft_client_id: 'id-1', microsoft_client_secret: 's3cret', microsoft_refresh_token: '1//tok', replace: true },
  });
});

test('an account\'s calendars chosen after it connected are sent as calendar_ids with its credentials again; none chosen is refused before sending', () => {
  assert.deepEqual(connectRequest(account, ['primary', 'team@group.calendar.google.com']), {
    path: '/calendar/create_calendar', body: { google_client_id: 'id-1', google_client_secret: 's3cret', google_refresh_token: '1//tok', calendar_ids: ['primary', 'team@group.calendar.google.com'] },
  });
  assert.deepEqual(connectRequest({ ...account, kind: 'outlook' }, ['AAMkAD1']).body, { microsoft_client_id: 'id-1', microsoft_client_secret: 's3cret', microsoft_refresh_token: '1//tok', replace: true, calendar_ids: ['AAMkAD1'] });
  assert.equal(checkCalendarChoice(['AAMkAD1']), null);
  assert.match(checkCalendarChoice([]) ?? '', /^Choose at least one calendar\./);
});

test('a choice of the calendars the account syncs already is unchanged (nothing is sent: sent, it would fix the list); any other is a change', () => {
  const answer = { available_calendars: [
    { id: 'ada@example.com', summary: null, isPrimary: true, synced: true },
    { id: 'team@group.calendar.google.com', summary: 'Team', isPrimary: false, synced: true },
    { id: 'rota@group.calendar.google.com', summary: 'Rota', isPrimary: false, synced: false },
  ] };
  assert.equal(isChoiceUnchanged(answer, ['ada@example.com', 'team@group.calendar.google.com']), true);
  assert.equal(isChoiceUnchanged(answer, ['team@group.calendar.google.com', 'ada@example.com']), true, 'in any order');
  assert.equal(isChoiceUnchanged(answer, ['ada@example.com']), false, 'one dropped');
  assert.equal(isChoiceUnchanged(answer, ['ada@example.com', 'team@group.calendar.google.com', 'rota@group.calendar.google.com']), false, 'one added');
  assert.equal(isChoiceUnchanged(answer, ['ada@example.com', 'rota@group.calendar.google.com']), false, 'one swapped for another');
});

test('a feed refused by the API shows on the address field; a private host is said to be one', () => {
  const invalid = new ApiFailure('ics_url: the URL did not answer with an iCalendar feed', 400, 'calendar_feed_invalid', { field: 'ics_url' });
  assert.deepEqual(connectProblem(invalid), { field: 'icsUrl', text: 'The URL did not answer with an iCalendar feed' });
  const privateHost = new ApiFailure('ics_url must lead to a public address (its host is not public, or does not resolve)', 400, 'calendar_url_not_allowed', { field: 'ics_url' });
  const said = connectProblem(privateHost);
  assert.equal(said.field, 'icsUrl');
  assert.match(said.text, /^Rollcall does not read feeds on private, local or unknown hosts/);
  assert.ok(said.text.endsWith('(The address must lead to a public address (its host is not public, or does not resolve))'), said.text);
});

test('a feed\'s refusal does not name the API\'s field, which the form calls Feed address', () => {
  assert.equal(feedRefusalWords('ics_url: the feed refused access (HTTP 404)'), 'The feed refused access (HTTP 404)');
  assert.equal(feedRefusalWords('ics_url must be an http(s) or webcal URL'), 'The address must be an http(s) or webcal URL');
  assert.equal(feedRefusalWords('The feed is over a parser limit'), 'The feed is over a parser limit');
});

test('a refused OAuth client (invalid_client) is the client id or secret: focus on the id, both marked; a refused grant is the refresh token; by the API\'s details.oauth_error', () => {
  // Google answers invalid_client for an unknown client id and a wrong secret alike ("The OAuth client was not found.").
  const google = new ApiFailure('The provider refused the connection (token refresh refused: HTTP 401 invalid_client: the OAuth client id or secret this connection was given is refused)', 400, 'calendar_auth_failed', { oauth_error: 'invalid_client' });
  assert.deepEqual(connectProblem(google), { field: 'clientId', alsoFields: ['clientSecret'], text: 'The provider refused the client id or client secret (invalid_client): check both; a secret that expired or was replaced needs the app\'s current one.' });
  const microsoft = new ApiFailure('The provider refused the connection (token refresh refused: HTTP 401 invalid_client (AADSTS7000215): …)', 400, 'calendar_auth_failed', { oauth_error: 'invalid_client', provider_error_codes: [7000215] });
  assert.deepEqual(connectProblem(microsoft), { field: 'clientId', alsoFields: ['clientSecret'], text: 'The provider refused the client id or client secret (invalid_client, AADSTS7000215): check both; a secret that expired or was replaced needs the app\'s current one.' });
  const grant = new ApiFailure('The provider refused the credentials (token refresh refused: HTTP 400 invalid_grant); check the client id, client secret and refresh token', 400, 'calendar_auth_failed', { oauth_error: 'invalid_grant' });
  assert.deepEqual(connectProblem(grant), { field: 'refreshToken', text: 'The provider refused the refresh token (invalid_grant): it expired, was revoked, or was issued to another client. Sign the account in again for a new one.' });
});

test('unauthorized_client names no one field: Microsoft\'s AADSTS700016 (no such app in the directory) is the client id, else the client id or a refresh token issued to another client', () => {
  // Azure/go-autorest issue 626: a refresh with an unknown app id answers 400 unauthorized_client, error_codes [700016].
  const unknownApp = connectProblem(new ApiFailure('The provider refused the credentials (token refresh refused: HTTP 400 unauthorized_client); check the client id, client secret and refresh token', 400, 'calendar_auth_failed', { oauth_error: 'unauthorized_client', provider_error_codes: [700016] }));
  assert.equal(unknownApp.field, null);
  assert.match(unknownApp.text, /does not know this client id \(unauthorized_client, AADSTS700016\).*Check the client id\./);
  const other = connectProblem(new ApiFailure('The provider refused the credentials (token refresh refused: HTTP 400 unauthorized_client); check the client id, client secret and refresh token', 400, 'calendar_auth_failed', { oauth_error: 'unauthorized_client' }));
  assert.equal(other.field, null);
  assert.match(other.text, /\(unauthorized_client\): check the client id, and that the refresh token was issued to this client/);
});

test('an answer without details.oauth_error is read from the message\'s words', () => {
  const client = new ApiFailure('The provider refused the connection (token refresh refused: HTTP 401 invalid_client (AADSTS7000215): the OAuth client was refused)', 400, 'calendar_auth_failed');
  assert.deepEqual(connectProblem(client), { field: 'clientId', alsoFields: ['clientSecret'], text: 'The provider refused the client id or client secret (invalid_client, AADSTS7000215): check both; a secret that expired or was replaced needs the app\'s current one.' });
  const grant = new ApiFailure('The provider refused the credentials (token refresh refused: HTTP 400 invalid_grant); check the client id, client secret and refresh token', 400, 'calendar_auth_failed');
  assert.equal(connectProblem(grant).field, 'refreshToken');
  const unauthorized = connectProblem(new ApiFailure('The provider refused the credentials (token refresh refused: HTTP 400 unauthorized_client); check the client id, client secret and refresh token', 400, 'calendar_auth_failed'));
  assert.equal(unauthorized.field, null);
  assert.match(unauthorized.text, /client id/);
  // Another refusal of the provider's (an insufficient scope read as withdrawn access) names no code.
  const scope = new ApiFailure('The provider refused the credentials (HTTP 403 insufficientPermissions); check the client id, client secret and refresh token', 400, 'calendar_auth_failed');
  assert.equal(connectProblem(scope).field, 'refreshToken');
  const other = new ApiFailure('The provider refused the connection (token refresh refused: HTTP 400 invalid_scope)', 400, 'calendar_auth_failed', { oauth_error: 'invalid_scope' });
  assert.deepEqual(connectProblem(other), { field: null, text: other.message });
  const named = new ApiFailure('google_client_id: must not be empty', 400, 'validation_error', { field: 'google_client_id' });
  assert.equal(connectProblem(named).field, 'clientId');
});

test('what names no field of the form is said for the form: the network, the server\'s set-up', () => {
  const key = new ApiFailure('Connecting Google needs CREDENTIALS_ENCRYPTION_KEY', 400, 'encryption_key_not_configured');
  assert.deepEqual(connectProblem(key), { field: null, text: key.message });
  assert.deepEqual(connectProblem(new ApiFailure('calendar_ids: the account has no calendar "x"', 400, 'validation_error', { field: 'calendar_ids' })).field, null);
});

test('an answer lost on the way back (a network cut, a proxy\'s 502, 503 or 504, a page that is not the API\'s, a server failure) may hide a connection made: the list above is read again', () => {
  const lost = [
    new ApiFailure('The server cannot be reached. Check your connection and try again.', 0, 'network_error'),
    new ApiFailure('The server answered 504: it may be restarting or overloaded. Try again shortly.', 504, 'http_error'),
    new ApiFailure('The server answered 502: it may be restarting or overloaded. Try again shortly.', 502, 'http_error'),
    new ApiFailure('Service Unavailable', 503, 'http_error'),
    new ApiFailure('The server answered 500: it may be restarting or overloaded. Try again shortly.', 500, 'http_error'),
    new ApiFailure('The server failed to answer this request (an internal error; the server\'s log has the details). Try again.', 500, 'internal_error'),
  ];
  for (const failure of lost) {
    const said = connectProblem(failure);
    assert.equal(said.field, null, failure.message);
    assert.equal(said.isOutcomeUnknown, true, failure.message);
    assert.ok(said.text.startsWith(failure.message), said.text);
    assert.match(said.text, /may have been connected all the same.*the list above is read again and shows it if so\. Connecting it again is harmless\./);
    assert.doesNotMatch(said.text, /list below/);
  }
  // A refusal is an answer: nothing was connected, and the list is not read for it.
  for (const refusal of [new ApiFailure('Too many requests', 429, 'rate_limited'), new ApiFailure('The calendar provider did not answer usefully; try again later', 503, 'calendar_provider_unavailable')]) {
    assert.equal(connectProblem(refusal).isOutcomeUnknown, undefined);
  }
});

test('the first sync\'s result in words', () => {
  assert.equal(firstSyncWords({ synced: true, created: 3, updated: 0, cancelled: 0, error: null }), 'The first sync brought 3 events; they are on Events.');
  assert.equal(firstSyncWords({ synced: true, created: 1, updated: 2, cancelled: 0, error: null }), 'The first sync brought 1 event, and updated 2 already known; they are on Events.');
  assert.equal(firstSyncWords({ synced: true, created: 0, updated: 0, cancelled: 0, error: null }), 'The first sync brought 0 events; nothing to show on Events yet.');
  assert.match(firstSyncWords({ synced: false, created: 0, updated: 0, cancelled: 0, error: 'transient: HTTP 503' }), /^The first sync failed \(transient: HTTP 503\); Rollcall tries again/);
});

test('the account\'s calendars, synced ones first', () => {
  const answer = { available_calendars: [
    { id: 'c1', summary: 'Holidays', isPrimary: false, synced: false },
    { id: 'c2', summary: 'Work', isPrimary: true, synced: true },
    { id: 'c3', summary: null, isPrimary: false, synced: true },
  ] } as ConnectAnswer;
  assert.deepEqual(availableCalendars(answer), [
    { id: 'c2', name: 'Work', isPrimary: true, synced: true }, { id: 'c3', name: 'c3', isPrimary: false, synced: true }, { id: 'c1', name: 'Holidays', isPrimary: false, synced: false },
  ]);
});

test('secrets go after a connection and when another kind is picked; the kind stays', () => {
  assert.deepEqual(clearedDraft(account), { ...EMPTY_DRAFT, kind: 'google' });
  assert.deepEqual(switchedDraft(account, 'outlook'), { ...account, kind: 'outlook', clientSecret: '', refreshToken: '' });
  assert.equal(switchedDraft(account, 'google'), account);
});

test('a feed is named by its host, not by the API\'s shortened address', () => {
  assert.equal(feedHost('https://feeds.example/…'), 'feeds.example');
  assert.equal(feedHost('http://127.0.0.1:8123/…'), '127.0.0.1:8123');
  assert.equal(feedHost('feeds.example'), 'feeds.example');
  const feed = { calendar_id: 'cal_1', provider: 'ics', ics_url: 'https://feeds.example/…', calendars: [{ id: 'feed', summary: 'Team' }] } as unknown as Connection;
  assert.equal(connectionNames([feed]).get('cal_1'), 'Team (feeds.example)');
});
