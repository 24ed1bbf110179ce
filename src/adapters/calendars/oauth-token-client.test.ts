// How the refresh-token grant reads the token endpoint's answers. Only the HTTP boundary is faked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientCredentialsRefused, isClientRefusal, OAuthTokenClient, RefreshingAccessToken } from './oauth-token-client.ts';
import type { HttpResponse, HttpSend } from './provider-http.ts';
import { providerFailureOf } from '../../../test/support/provider-failures.ts';

const NOW = Date.parse('2026-12-03T08:00:00Z');
const CREDENTIALS = { clientId: 'client', clientSecret: 'secret', refreshToken: 'refresh' };

function answering(status: number, body: unknown): OAuthTokenClient {
  const send: HttpSend = async (): Promise<HttpResponse> => ({ status, headers: {}, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return new OAuthTokenClient({ tokenUrl: 'https://login.test/token', send, timeoutMs: 1000, now: () => NOW });
}

test('a grant the user revoked or let expire (invalid_grant, consent_required...) is lost access', async () => {
  // RFC 6749 section 5.2: invalid_grant for a refresh token that is invalid, expired or revoked
  // (Google, and Microsoft's AADSTS50173 / 700082 / 70008, come as invalid_grant).
  for (const [status, error] of [[400, 'invalid_grant'], [400, 'interaction_required'], [400, 'consent_required'], [400, 'unauthorized_client']] as const) {
    const failure = await providerFailureOf(answering(status, { error, error_description: 'AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.' }).refresh(CREDENTIALS));
    assert.equal(failure.kind, 'auth_revoked', error);
    assert.doesNotMatch(failure.message, /AADSTS/, 'the description is not kept');
  }
});

test('a refused OAuth client (invalid_client: an expired or wrong client secret, an unknown client id) is no lost access but a failing sync, naming Microsoft\'s numeric code', async () => {
  // Microsoft: AADSTS7000222 (secret expired) and 7000215 (not the app's secret), both invalid_client
  // with error_codes; Google: 401 invalid_client "The OAuth client was not found."
  const expired = await answering(401, { error: 'invalid_client', error_description: 'AADSTS7000222: The provided client secret keys for app \'x\' are expired.', error_codes: [7000222] }).refresh(CREDENTIALS).catch((error: unknown) => error);
  assert.ok(expired instanceof ClientCredentialsRefused);
  assert.equal(expired.failure.kind, 'permanent');
  assert.match(expired.failure.message, /invalid_client \(AADSTS7000222\)/);
  assert.doesNotMatch(expired.failure.message, /are expired/, 'the description is not kept');
  for (const body of [{ error: 'invalid_client', error_codes: [7000215] }, { error: 'invalid_client', error_description: 'The OAuth client was not found.' }, { error: 'invalid_client', error_codes: ['x'] }]) {
    const failure = await providerFailureOf(answering(401, body).refresh(CREDENTIALS));
    assert.equal(failure.kind, 'permanent', JSON.stringify(body));
    assert.doesNotMatch(failure.message, /not found|AADSTSx/, JSON.stringify(body));
  }
});

test('a deleted OAuth client (Google\'s deleted_client) is the app\'s credentials as invalid_client is: a failing sync, not lost access', async () => {
  // Google: 401 deleted_client, "The OAuth client was deleted." (google-api-nodejs-client issue 1256).
  const deleted = await answering(401, { error: 'deleted_client', error_description: 'The OAuth client was deleted.' }).refresh(CREDENTIALS).catch((error: unknown) => error);
  assert.ok(deleted instanceof ClientCredentialsRefused, String(deleted));
  assert.equal(deleted.failure.kind, 'permanent');
  assert.match(deleted.failure.message, /deleted_client/);
  assert.ok(isClientRefusal(deleted.failure));
});

test('the endpoint\'s "try again" answers, a 5xx and a refusal without an OAuth code pass; another code is a setting to fix', async () => {
  // Microsoft's identity platform error table: server_error and temporarily_unavailable mean
  // "retry the request" (RFC 6749 section 4.1.2.1 names both); a proxy's HTML page carries no code.
  for (const [status, body] of [
    [400, { error: 'temporarily_unavailable' }], [400, { error: 'server_error' }], [500, { error: 'server_error' }],
    [503, '<html>Service Unavailable</html>'], [400, '<html><body>Bad Request</body></html>'],
  ] as const) {
    assert.equal((await providerFailureOf(answering(status, body).refresh(CREDENTIALS))).kind, 'transient', `${status} ${JSON.stringify(body)}`);
  }
  assert.equal((await providerFailureOf(answering(400, { error: 'invalid_scope' }).refresh(CREDENTIALS))).kind, 'permanent');
  const limited = await providerFailureOf(answering(429, { error: 'too_many_requests' }).refresh(CREDENTIALS));
  assert.equal(limited.kind, 'rate_limited');
});

test('requests side by side that find the token expired share one refresh: the rotated refresh token is spent once and stored once', async () => {
  const used: string[] = [];
  let issued = 0;
  const send: HttpSend = async (request): Promise<HttpResponse> => {
    used.push(new URLSearchParams(String(request.body)).get('refresh_token')!);
    await new Promise((resolve) => setTimeout(resolve, 5));
    issued += 1;
    return { status: 200, headers: {}, body: JSON.stringify({ access_token: `access-${issued}`, expires_in: 3600, refresh_token: `refresh-${issued}` }) };
  };
  const rotated: string[] = [];
  const token = new RefreshingAccessToken(new OAuthTokenClient({ tokenUrl: 'https://login.test/token', send, timeoutMs: 1000, now: () => NOW }), CREDENTIALS, { now: () => NOW, onRotated: (r) => void rotated.push(r) });
  assert.deepEqual(await Promise.all([token.get(), token.get(), token.renew(), token.get()]), ['access-1', 'access-1', 'access-1', 'access-1']);
  assert.deepEqual([used, rotated], [['refresh'], ['refresh-1']]);
  // A renewal after that one has ended refreshes again, with the rotated token.
  assert.equal(await token.renew(), 'access-2');
  assert.deepEqual(used, ['refresh', 'refresh-1']);
});

test('a shared refresh that fails is not kept: every caller beside it gets the failure, and the next renewal refreshes again', async () => {
  let calls = 0;
  const send: HttpSend = async (): Promise<HttpResponse> => {
    calls += 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return calls === 1 ? { status: 503, headers: {}, body: '{"error":"temporarily_unavailable"}' } : { status: 200, headers: {}, body: JSON.stringify({ access_token: 'access-ok', expires_in: 3600 }) };
  };
  const token = new RefreshingAccessToken(new OAuthTokenClient({ tokenUrl: 'https://login.test/token', send, timeoutMs: 1000, now: () => NOW }), CREDENTIALS, { now: () => NOW });
  const outcomes = await Promise.allSettled([token.get(), token.renew(), token.get()]);
  assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
  assert.equal(calls, 1);
  assert.equal(await token.get(), 'access-ok');
  assert.equal(calls, 2);
});

test('requests refused (401) one after another with the same token share one refresh: a renewal for a token replaced since gets the current one', async () => {
  let calls = 0;
  const send: HttpSend = async (): Promise<HttpResponse> => {
    calls += 1;
    return { status: 200, headers: {}, body: JSON.stringify({ access_token: `access-${calls}`, expires_in: 3600, refresh_token: `refresh-${calls}` }) };
  };
  const token = new RefreshingAccessToken(new OAuthTokenClient({ tokenUrl: 'https://login.test/token', send, timeoutMs: 1000, now: () => NOW }), CREDENTIALS, { now: () => NOW });
  const refused = await token.get();
  // Lookups in flight with access-1 are refused; their 401s arrive after the first refresh ended.
  const renewed: string[] = [];
  for (let i = 0; i < 4; i++) renewed.push(await token.renew(refused));
  assert.deepEqual([calls, renewed], [2, ['access-2', 'access-2', 'access-2', 'access-2']]);
  // The current token refused in turn: a refresh of its own.
  assert.equal(await token.renew('access-2'), 'access-3');
  // Not naming the token refused: a refresh, as before.
  assert.equal(await token.renew(), 'access-4');
});
