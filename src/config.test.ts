import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, KNOWN_KEYS, loadConfig, parseConfig } from './config.ts';

test('defaults give a runnable service on the embedded database', () => {
  const config = parseConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.databaseUrl, 'sqlite:./data/rollcall.db');
  assert.equal(config.joinLeadSeconds, 180);
  assert.ok(Object.isFrozen(config));
});

test('a bad value or a misspelt setting stops the start with its name', () => {
  assert.throws(() => parseConfig({ PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message));
  assert.throws(() => parseConfig({ JOIN_LEAD_SECOND: '60' }), (e: unknown) => e instanceof ConfigError && /JOIN_LEAD_SECOND/.test(e.message));
  assert.throws(() => parseConfig({ BOT_RUNTIME: 'http' }), /BOT_RUNTIME_URL/);
  assert.throws(() => parseConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/);
  // A credential in a refused URL is not repeated in the message.
  assert.throws(() => parseConfig({ PUBLIC_URL: 'ftp://admin:hunter2@example.com' }), (e: unknown) => e instanceof ConfigError && /PUBLIC_URL/.test(e.message) && !e.message.includes('hunter2'));
});

test('integer settings take decimal digits only: hex, exponents, fractions and padding stop the start, named', () => {
  assert.equal(parseConfig({ PORT: '80' }).port, 80);
  assert.equal(parseConfig({ RATE_LIMIT_PER_MINUTE: '1000' }).rateLimitPerMinute, 1000);
  for (const [key, raw] of [['PORT', '0x50'], ['RATE_LIMIT_PER_MINUTE', '1e3'], ['PORT', '80.0'], ['PORT', ' 80'], ['JOIN_LEAD_SECONDS', '0b11'], ['PORT', '+80']] as [string, string][]) {
    assert.throws(() => parseConfig({ [key]: raw }), (e: unknown) => e instanceof ConfigError && e.message.includes(`${key} must be an integer`) && e.message.includes(raw), `${key}=${raw}`);
  }
});

test('DASHBOARD_SESSION_IDLE_MINUTES: 30 unless set, from 5 (last use is written once a minute) to 30 days; anything else stops the start, named', () => {
  assert.equal(parseConfig({}).dashboardSessionIdleMinutes, 30);
  assert.equal(parseConfig({ DASHBOARD_SESSION_IDLE_MINUTES: '5' }).dashboardSessionIdleMinutes, 5);
  assert.equal(parseConfig({ DASHBOARD_SESSION_IDLE_MINUTES: '43200' }).dashboardSessionIdleMinutes, 43_200);
  for (const raw of ['4', '0', '43201', '30m', '1.5']) {
    assert.throws(() => parseConfig({ DASHBOARD_SESSION_IDLE_MINUTES: raw }), (e: unknown) => e instanceof ConfigError && e.message.includes('DASHBOARD_SESSION_IDLE_MINUTES must be an integer from 5 to 43200'), raw);
  }
});

test('a name one or two letters from a setting, or the same letters without underscores, stops the start naming both; other programs\' variables do not', () => {
  for (const [given, meant] of [['DATABSE_URL', 'DATABASE_URL'], ['TRUSTED_PROXY', 'TRUST_PROXY'], ['PUBLIC_ULR', 'PUBLIC_URL'], ['LOGLEVEL', 'LOG_LEVEL'], ['log_level', 'LOG_LEVEL'], ['JOIN_LEAD_SECOND', 'JOIN_LEAD_SECONDS']] as [string, string][]) {
    assert.throws(() => parseConfig({ [given]: 'x' }), (e: unknown) => e instanceof ConfigError && e.message.includes(`${given} is not a setting; did you mean ${meant}?`), given);
  }
  const theirs = {
    HOSTNAME: 'rollcall-7d9f', PATH: '/usr/bin', HOME: '/root', PWD: '/app', OLDPWD: '/', TERM: 'xterm', LANG: 'C.UTF-8', LOGNAME: 'app', TZ: 'UTC',
    NODE_ENV: 'production', NODE_OPTIONS: '--max-old-space-size=512', npm_lifecycle_event: 'start', npm_config_loglevel: 'warn', INIT_CWD: '/app',
    HTTP_PROXY: 'http://proxy:3128', NO_PROXY: 'localhost', KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_PORT: 'tcp://10.0.0.1:443',
    DATABASE_SERVICE_HOST: '10.0.0.9', DATABASE_PORT: 'tcp://10.0.0.9:5432', REDIS_URL: 'redis://r', PGHOST: 'db', ROLLCALL_TEST_ENGINE: 'sqlite',
  };
  assert.doesNotThrow(() => parseConfig(theirs));
});

test('every name in the .env file must be a setting: the file is Rollcall\'s own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-env-'));
  const envFile = join(dir, '.env');
  writeFileSync(envFile, 'PORT=9090\nREDIS_URL=redis://r\n');
  assert.throws(() => loadConfig({}, envFile), (e: unknown) => e instanceof ConfigError && e.message.includes(`${envFile} names REDIS_URL, which is not a setting`));
  // The same variable in the environment is someone else's.
  writeFileSync(envFile, 'PORT=9090\n');
  assert.equal(loadConfig({ REDIS_URL: 'redis://r' }, envFile).port, 9090);
  writeFileSync(envFile, 'DATABSE_URL=sqlite:./x.db\n');
  assert.throws(() => loadConfig({}, envFile), /DATABSE_URL is not a setting; did you mean DATABASE_URL\?/);
});

test('every setting is in .env.example and in the README', () => {
  const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const key of KNOWN_KEYS) {
    assert.match(example, new RegExp(`^#? ?${key}=`, 'm'), `${key} missing from .env.example`);
    assert.ok(readme.includes(key), `${key} missing from the README`);
  }
});

test('a bot provider needs its key, webhook secret and address, and Recall a lead over ten minutes', () => {
  assert.throws(() => parseConfig({ BOT_RUNTIME: 'recall' }), (e: unknown) => e instanceof ConfigError && /BOT_PROVIDER_API_KEY/.test(e.message) && /BOT_PROVIDER_WEBHOOK_SECRET/.test(e.message) && /BOT_PROVIDER_REGION/.test(e.message));
  assert.throws(() => parseConfig({ BOT_RUNTIME: 'recall', BOT_PROVIDER_API_KEY: 'k', BOT_PROVIDER_WEBHOOK_SECRET: 's', BOT_PROVIDER_REGION: 'mars-1' }), /BOT_PROVIDER_REGION must be one of/);
  assert.throws(() => parseConfig({ BOT_RUNTIME: 'recall', BOT_PROVIDER_API_KEY: 'k', BOT_PROVIDER_WEBHOOK_SECRET: 's', BOT_PROVIDER_REGION: 'eu-central-1', BOT_PROVIDER_HANDOVER_LEAD_SECONDS: '600' }), /more than 600/);
  assert.throws(() => parseConfig({ BOT_RUNTIME: 'attendee', BOT_PROVIDER_API_KEY: 'k', BOT_PROVIDER_WEBHOOK_SECRET: 'c2VjcmV0' }), /BOT_PROVIDER_BASE_URL/);
  assert.throws(() => parseConfig({ BOT_RUNTIME: 'meetstream', BOT_PROVIDER_API_KEY: 'k', BOT_PROVIDER_WEBHOOK_SECRET: 's', BOT_PROVIDER_TYPO: '1' }), /BOT_PROVIDER_TYPO/);
  const recall = parseConfig({ BOT_RUNTIME: 'recall', BOT_PROVIDER_API_KEY: 'key-123', BOT_PROVIDER_WEBHOOK_SECRET: 'whsec_abc', BOT_PROVIDER_REGION: 'eu-central-1' });
  assert.deepEqual({ ...recall.botProvider }, { name: 'recall', apiKey: 'key-123', baseUrl: 'https://eu-central-1.recall.ai', webhookSecret: 'whsec_abc', handoverLeadSeconds: 900, createsPerMinute: 60 });
  const meetstream = parseConfig({ BOT_RUNTIME: 'meetstream', BOT_PROVIDER_API_KEY: 'k', BOT_PROVIDER_WEBHOOK_SECRET: 's' });
  assert.equal(meetstream.botProvider!.baseUrl, 'https://api.meetstream.ai');
  assert.equal(meetstream.botProvider!.handoverLeadSeconds, 300);
  // A problem message never quotes the key or the secret.
  try {
    parseConfig({ BOT_RUNTIME: 'attendee', BOT_PROVIDER_API_KEY: 'very-secret-key', BOT_PROVIDER_WEBHOOK_SECRET: 'not base64!!' });
    assert.fail('should throw');
  } catch (error) {
    assert.ok(!(error as Error).message.includes('very-secret-key') && !(error as Error).message.includes('not base64!!'));
  }
  assert.equal(parseConfig({ BOT_RUNTIME: 'http', BOT_RUNTIME_URL: 'http://127.0.0.1:1/x' }).botProvider, null);
});

test('a runtime\'s address, command or provider key without BOT_RUNTIME choosing it stops the start, naming the setting to choose (every bot would fail no_runtime)', () => {
  for (const runtime of [{}, { BOT_RUNTIME: 'none' }]) {
    assert.throws(() => parseConfig({ ...runtime, BOT_RUNTIME_URL: 'http://127.0.0.1:9100/launch' }), (e: unknown) => e instanceof ConfigError && /BOT_RUNTIME_URL is set but BOT_RUNTIME is (none|not set).*set BOT_RUNTIME=http/.test(e.message));
    assert.throws(() => parseConfig({ ...runtime, BOT_RUNTIME_COMMAND: './launch.sh' }), (e: unknown) => e instanceof ConfigError && /BOT_RUNTIME_COMMAND is set but BOT_RUNTIME is (none|not set).*set BOT_RUNTIME=command/.test(e.message));
    assert.throws(() => parseConfig({ ...runtime, BOT_PROVIDER_API_KEY: 'very-secret-key' }), (e: unknown) => e instanceof ConfigError && /BOT_PROVIDER_API_KEY is set but BOT_RUNTIME is (none|not set)/.test(e.message) && !e.message.includes('very-secret-key'));
  }
  // The chosen runtime's settings, and another runtime's left beside them, still start.
  assert.equal(parseConfig({ BOT_RUNTIME: 'http', BOT_RUNTIME_URL: 'http://127.0.0.1:9100/launch' }).botRuntime, 'http');
  assert.equal(parseConfig({ BOT_RUNTIME: 'command', BOT_RUNTIME_COMMAND: './launch.sh', BOT_RUNTIME_URL: 'http://127.0.0.1:9100/launch' }).botRuntime, 'command');
  assert.equal(parseConfig({}).botRuntime, 'none');
});

test('DEDUPLICATION_KEY_REQUIRED is true unless set to false, and refuses anything else', () => {
  assert.equal(parseConfig({}).isDeduplicationKeyRequired, true);
  assert.equal(parseConfig({ DEDUPLICATION_KEY_REQUIRED: 'false' }).isDeduplicationKeyRequired, false);
  assert.equal(parseConfig({ DEDUPLICATION_KEY_REQUIRED: 'true' }).isDeduplicationKeyRequired, true);
  assert.throws(() => parseConfig({ DEDUPLICATION_KEY_REQUIRED: 'no' }), /DEDUPLICATION_KEY_REQUIRED must be true or false/);
  assert.throws(() => parseConfig({ DEDUPLICATION_KEY_REQUIRE: 'false' }), /DEDUPLICATION_KEY_REQUIRE\b/);
});

test('the variables Kubernetes sets for a Service named rollcall or bot-runtime are not taken for misspelt settings; a misspelt setting still is', () => {
  const serviceLinks = {
    ROLLCALL_SERVICE_HOST: '10.0.0.7', ROLLCALL_SERVICE_PORT: '8080', ROLLCALL_SERVICE_PORT_HTTP: '8080', ROLLCALL_PORT: 'tcp://10.0.0.7:8080',
    ROLLCALL_PORT_8080_TCP: 'tcp://10.0.0.7:8080', ROLLCALL_PORT_8080_TCP_PROTO: 'tcp', ROLLCALL_PORT_8080_TCP_PORT: '8080', ROLLCALL_PORT_8080_TCP_ADDR: '10.0.0.7',
    BOT_RUNTIME_SERVICE_HOST: '10.0.0.8', BOT_RUNTIME_PORT: 'tcp://10.0.0.8:9000',
  };
  assert.doesNotThrow(() => parseConfig(serviceLinks));
  assert.throws(() => parseConfig({ ...serviceLinks, ROLLCALL_PORT: '8080' }), /unknown setting\(s\) ROLLCALL_PORT\b/);
  assert.throws(() => parseConfig({ BOT_RUNTIME_TIMEOUT: '5000' }), /BOT_RUNTIME_TIMEOUT\b/);
});

test('BOT_DEFAULT_NAME names bots booked without bot_name; 1 to 200 characters, no control characters', () => {
  assert.equal(parseConfig({}).botDefaultName, 'Rollcall Notetaker');
  assert.equal(parseConfig({ BOT_DEFAULT_NAME: ' Acme Notes ' }).botDefaultName, 'Acme Notes');
  assert.throws(() => parseConfig({ BOT_DEFAULT_NAME: 'x'.repeat(201) }), /BOT_DEFAULT_NAME must be 1 to 200 characters/);
  assert.throws(() => parseConfig({ BOT_DEFAULT_NAME: '   ' }), /BOT_DEFAULT_NAME must be 1 to 200 characters/);
  assert.throws(() => parseConfig({ BOT_DEFAULT_NAME: 'Acme\tNotes' }), /BOT_DEFAULT_NAME/);
  // Held to the bot provider's own limits: it would refuse every bot booked without bot_name.
  const recall = { BOT_RUNTIME: 'recall', BOT_PROVIDER_API_KEY: 'k', BOT_PROVIDER_WEBHOOK_SECRET: 's', BOT_PROVIDER_REGION: 'eu-central-1' };
  assert.equal(parseConfig({ ...recall, BOT_DEFAULT_NAME: 'x'.repeat(100) }).botDefaultName.length, 100);
  assert.throws(() => parseConfig({ ...recall, BOT_DEFAULT_NAME: 'x'.repeat(101) }), /BOT_DEFAULT_NAME: must be 1 to 100 characters for the bot provider \(Recall\)/);
  const attendee = { BOT_RUNTIME: 'attendee', BOT_PROVIDER_API_KEY: 'k', BOT_PROVIDER_WEBHOOK_SECRET: 'c2VjcmV0', BOT_PROVIDER_BASE_URL: 'https://attendee.example.com' };
  assert.throws(() => parseConfig({ ...attendee, BOT_DEFAULT_NAME: 'Notes 📝' }), /BOT_DEFAULT_NAME: .*beyond U\+FFFF/);
  assert.equal(parseConfig({ BOT_DEFAULT_NAME: 'Notes 📝' }).botDefaultName, 'Notes 📝');
});

test('CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: each key checked by position, and only beside a current key', () => {
  const key = (byte: string) => byte.repeat(32);
  const config = parseConfig({ CREDENTIALS_ENCRYPTION_KEY: key('0a'), CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: ` ${key('0b')}, ${Buffer.alloc(32, 0x0c).toString('base64')} ` });
  assert.deepEqual(config.credentialsPreviousKeys.map((k) => k[0]), [0x0b, 0x0c]);
  assert.deepEqual(parseConfig({ CREDENTIALS_ENCRYPTION_KEY: key('0a') }).credentialsPreviousKeys, []);
  assert.throws(() => parseConfig({ CREDENTIALS_ENCRYPTION_KEY: key('0a'), CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: `${key('0b')},short` }), /CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: key 2 of 2/);
  assert.throws(() => parseConfig({ CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS: key('0b') }), /needs CREDENTIALS_ENCRYPTION_KEY/);
});

test('OUTBOUND_ALLOWED_HOSTS takes host names and IP addresses alone; one written with a scheme, port, path or wildcard stops the start, named', () => {
  assert.deepEqual(parseConfig({ OUTBOUND_ALLOWED_HOSTS: ' 127.0.0.1, Feeds.Internal ,::1,[fd00::1],localhost.' }).outboundAllowedHosts, ['127.0.0.1', 'feeds.internal', '::1', '[fd00::1]', 'localhost.']);
  for (const entry of ['127.0.0.1:18483', 'http://feeds.internal', 'feeds.internal/ics', 'user@feeds.internal', '*.internal', 'two words']) {
    assert.throws(() => parseConfig({ OUTBOUND_ALLOWED_HOSTS: `localhost,${entry}` }), (e: unknown) => e instanceof ConfigError && e.message.includes(`OUTBOUND_ALLOWED_HOSTS: "${entry}" is not a host name or IP address`), entry);
  }
});

test('TRUST_PROXY is off by default; true, or the proxies\' addresses and CIDR ranges; anything else stops the start, named', () => {
  assert.equal(parseConfig({}).trustProxy, false);
  assert.equal(parseConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
  assert.equal(parseConfig({ TRUST_PROXY: 'TRUE' }).trustProxy, true);
  assert.equal(parseConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8' }).trustProxy, '10.0.0.0/8,127.0.0.1,::1,fd00::/8');
  for (const bad of ['2', 'proxy.internal', '10.0.0.0/33', '10.0.0.1/8/1', 'fd00::/129', '10.0.0.1:8080']) {
    assert.throws(() => parseConfig({ TRUST_PROXY: bad }), (e: unknown) => e instanceof ConfigError && e.message.includes('TRUST_PROXY'), bad);
  }
});

test('systemd\'s CREDENTIALS_DIRECTORY (a unit that loads credentials) is not taken for a misspelt setting', () => {
  assert.doesNotThrow(() => parseConfig({ CREDENTIALS_DIRECTORY: '/run/credentials/rollcall.service' }));
  assert.throws(() => parseConfig({ CREDENTIALS_ENCRYPTION_KEYS: 'x' }), /CREDENTIALS_ENCRYPTION_KEYS/);
});

test('a PUBLIC_URL that is no URL (a space in its host) stops the start, named, rather than failing later', () => {
  assert.throws(() => parseConfig({ PUBLIC_URL: 'http://exa mple' }), (e: unknown) => e instanceof ConfigError && /PUBLIC_URL must be an http\(s\) URL/.test(e.message));
  assert.equal(parseConfig({ PUBLIC_URL: 'https://rollcall.example.com/' }).publicUrl, 'https://rollcall.example.com');
});
