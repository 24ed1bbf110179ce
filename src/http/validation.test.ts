// What a 400 says for a value a schema refuses, through the same Ajv and formatter the routes use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'typebox';
import { validationErrorToApiError, validatorCompiler } from './validation.ts';

function messageFor(schema: object, body: unknown): { message: string; field: unknown; code: string } {
  const validate = validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '/x' }) as unknown as ((data: unknown) => boolean) & { errors: never[] };
  assert.equal(validate(structuredClone(body)), false, 'the body is refused');
  const error = validationErrorToApiError(validate.errors, 'body');
  return { message: error.message, field: error.details?.field, code: error.code };
}

const Status = Type.Union([Type.Literal('confirmed'), Type.Literal('tentative'), Type.Literal('cancelled')]);

test('a value outside a union of literals is answered with the choices', () => {
  assert.equal(messageFor(Type.Object({ status: Status }), { status: 'bogus' }).message, 'status: must be one of confirmed, tentative, cancelled');
  assert.equal(messageFor(Type.Object({ status: Type.Union([Status, Type.Null()]) }), { status: 'bogus' }).message, 'status: must be one of confirmed, tentative, cancelled, or null');
  assert.equal(messageFor(Type.Object({ n: Type.Union([Type.String(), Type.Null()]) }), { n: 5 }).message, 'n: must be of type string, or null');
});

test('a union of a literal and a list: the list\'s own failure is named, or both shapes are', () => {
  const CalendarIds = Type.Union([Type.Literal('all'), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]);
  const schema = Type.Object({ calendar_ids: CalendarIds });
  assert.deepEqual(messageFor(schema, { calendar_ids: [''] }), { message: 'calendar_ids.0: must be at least 1 characters', field: 'calendar_ids.0', code: 'validation_error' });
  assert.equal(messageFor(schema, { calendar_ids: [] }).message, 'calendar_ids: must have at least 1 items');
  assert.equal(messageFor(schema, { calendar_ids: 'primary' }).message, 'calendar_ids: must be all, or of type array');
  assert.equal(messageFor(schema, { calendar_ids: [5] }).message, 'calendar_ids.0: must be of type string');
});

test('errors outside unions are unchanged', () => {
  assert.equal(messageFor(Type.Object({ title: Type.String() }), {}).message, 'title: is required');
  assert.equal(messageFor(Type.Object({ limit: Type.Integer({ minimum: 1 }) }), { limit: 0 }).message, 'limit: must be >= 1');
});

function queryMessageFor(schema: object, query: unknown): string {
  const validate = validatorCompiler({ schema, httpPart: 'querystring', method: 'GET', url: '/x' }) as unknown as ((data: unknown) => boolean) & { errors: never[] };
  assert.equal(validate(structuredClone(query)), false, 'the query is refused');
  return validationErrorToApiError(validate.errors, 'querystring').message;
}

test('a query parameter given twice (it arrives as a list) is named once, not with each choice refused in turn', () => {
  const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('failed'), Type.Literal('delivered')]);
  const schema = Type.Object({ status: Type.Optional(DeliveryStatus), limit: Type.Optional(Type.Integer({ minimum: 1 })) });
  assert.equal(queryMessageFor(schema, { status: ['failed', 'delivered'] }), 'status (query): must be given once, not repeated');
  assert.equal(queryMessageFor(schema, { limit: ['1', '2'] }), 'limit (query): must be given once, not repeated');
  assert.equal(queryMessageFor(schema, { status: 'bogus' }), 'status (query): must be one of pending, failed, delivered', 'a single bad value: its choices');
  assert.equal(queryMessageFor(Type.Object({ n: Type.Union([Type.Literal('a'), Type.Integer(), Type.Integer({ minimum: 5 })]) }), { n: 'x' }), 'n (query): must be a, or of type integer', 'each type named once');
  // A parameter that takes a list is not one given twice.
  assert.equal(queryMessageFor(Type.Object({ ids: Type.Array(Type.Integer()) }), { ids: ['x'] }), 'ids.0 (query): must be an integer');
  assert.equal(queryMessageFor(Type.Object({ ids: Type.Union([Type.Literal('all'), Type.Array(Type.Integer({ minimum: 1 }))]) }), { ids: ['1', '0'] }), 'ids.1 (query): must be >= 1');
});

test('OptionalField: null is the field left out, at any depth, defaults applied; a required or unmarked field keeps its null', async () => {
  const { OptionalField } = await import('./schemas/common.ts');
  const Inner = Type.Object({ seconds: OptionalField(Type.Integer({ 'x-error-code': 'invalid_bot_config' })), kept: Type.Optional(Type.Union([Type.String(), Type.Null()])) });
  const schema = Type.Object({
    name: Type.String(),
    audio: OptionalField(Type.Boolean({ default: true })),
    inner: OptionalField(Inner),
    list: OptionalField(Type.Array(Inner)),
  });
  const validate = validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '/x' }) as unknown as ((data: unknown) => boolean) & { errors: never[] };
  const body: Record<string, unknown> = { name: 'n', audio: null, inner: { seconds: null, kept: null }, list: [{ seconds: null }] };
  assert.equal(validate(body), true, JSON.stringify(validate.errors));
  // The default of a field given null is filled in; an unmarked nullable field keeps its null (it
  // may mean "clear"); the objects of a list lose theirs too.
  assert.deepEqual(body, { name: 'n', audio: true, inner: { kept: null }, list: [{}] });
  const nothing: Record<string, unknown> = { name: 'n', inner: null };
  assert.equal(validate(nothing), true);
  assert.deepEqual(nothing, { name: 'n', audio: true });
  // Required: null is refused, naming the field, as a null (not as the types it could have been).
  assert.deepEqual(messageFor(schema, { name: null }), { message: 'name: may not be null', field: 'name', code: 'validation_error' });
  // A wrong type in an optional field says that null is also taken, and keeps the field's code.
  assert.deepEqual(messageFor(schema, { name: 'n', inner: { seconds: 'x' } }), { message: 'inner.seconds: must be of type integer, or null', field: 'inner.seconds', code: 'invalid_bot_config' });
  assert.equal(messageFor(schema, { name: 'n', audio: 'yes' }).message, 'audio: must be of type boolean, or null');
});

test('CustomAttributesInput with nullIsUnset: an attribute given null is one not set; without it null is refused, naming the attribute', async () => {
  const { CustomAttributesInput } = await import('./schemas/common.ts');
  const unset = Type.Object({ attrs: CustomAttributesInput({ errorCode: 'invalid_bot_config', nullIsUnset: true }) });
  const validate = validatorCompiler({ schema: unset, httpPart: 'body', method: 'POST', url: '/x' }) as unknown as ((data: unknown) => boolean) & { errors: never[] };
  const body = { attrs: { a: null, b: 5, c: 'x' } };
  assert.equal(validate(body), true, JSON.stringify(validate.errors));
  assert.deepEqual(body, { attrs: { b: '5', c: 'x' } });
  const merged = Type.Object({ attrs: CustomAttributesInput({ errorCode: 'validation_error' }) });
  assert.deepEqual(messageFor(merged, { attrs: { a: null } }), { message: 'attrs.a: may not be null; leave it out', field: 'attrs.a', code: 'validation_error' });
});

test('OptionalField of an object: the defaults of its properties are filled in, given or given null, and its document shows them', async () => {
  const { OptionalField } = await import('./schemas/common.ts');
  // default_bot_config: Ajv fills no default under a union (anyOf), at any depth.
  const Config = Type.Object({ name: OptionalField(Type.String()), audio: OptionalField(Type.Boolean({ default: true })), video: OptionalField(Type.Boolean({ default: false })) }, { 'x-error-code': 'invalid_bot_config' });
  const schema = Type.Object({ config: OptionalField(Config) });
  const validate = validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '/x' }) as unknown as ((data: unknown) => boolean) & { errors: never[] };
  for (const [given, filled] of [
    [{ name: 'Auto' }, { name: 'Auto', audio: true, video: false }],
    [{ name: 'Auto', audio: null }, { name: 'Auto', audio: true, video: false }],
    [{ video: true }, { audio: true, video: true }],
  ]) {
    const body = { config: given };
    assert.equal(validate(body), true, JSON.stringify(validate.errors));
    assert.deepEqual(body.config, filled, JSON.stringify(given));
  }
  const absent: Record<string, unknown> = { config: null };
  assert.equal(validate(absent), true);
  assert.deepEqual(absent, {});
  // The schema as served: the object's own properties, defaults included, beside its null.
  const property = (schema as unknown as { properties: { config: { type: unknown; properties: { audio: { default: unknown } } } } }).properties.config;
  assert.deepEqual(property.type, ['object', 'null']);
  assert.equal(property.properties.audio.default, true);
  assert.deepEqual(messageFor(schema, { config: 'x' }), { message: 'config: must be of type object, or null', field: 'config', code: 'invalid_bot_config' });
});

test('a field that takes null as left out is one whose null is removed: in the objects of a list too; one nested too deep, or a list item itself, is refused when the route is built', async () => {
  const { OptionalField } = await import('./schemas/common.ts');
  const compile = (schema: object) => validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '/x' }) as unknown as ((data: unknown) => boolean) & { errors: never[] };
  // A handler typed { seconds?: number } never meets a null, whether the object is a field or a
  // list's item, in a list of lists, or in a union's branch.
  const Item = Type.Object({ seconds: OptionalField(Type.Integer()), note: OptionalField(Type.String()) });
  const validate = compile(Type.Object({
    list: Type.Array(Item),
    nested: Type.Optional(Type.Array(Type.Array(Item))),
    either: Type.Optional(Type.Union([Type.Literal('none'), Type.Array(Item)])),
  }));
  const body = { list: [{ seconds: null, note: 'a' }, { seconds: 5, note: null }], nested: [[{ seconds: null }]], either: [{ note: null }] };
  assert.equal(validate(body), true, JSON.stringify(validate.errors));
  assert.deepEqual(body, { list: [{ note: 'a' }, { seconds: 5 }], nested: [[{}]], either: [{}] });
  // A null item of a list is not a field left out: refused, as the item's type says.
  assert.equal(compile(Type.Object({ list: Type.Array(Item) }))({ list: [null] }), false);
  assert.throws(() => compile(Type.Object({ list: Type.Array(OptionalField(Type.String())) })), /list item/);
  // Nested deeper than the remover walks: the schema is refused rather than null let through.
  let deep: ReturnType<typeof Type.Object> = Type.Object({ leaf: OptionalField(Type.String()) });
  for (let i = 0; i < 20; i++) deep = Type.Object({ next: deep });
  assert.throws(() => compile(deep), /deeper than 16/);
  let shallow: ReturnType<typeof Type.Object> = Type.Object({ leaf: OptionalField(Type.String()) });
  for (let i = 0; i < 10; i++) shallow = Type.Object({ next: shallow });
  assert.doesNotThrow(() => compile(shallow));
});

test('a refused null says the field may not be null: with its own hint, "leave it out" when its object does not require it, nothing more when it does', async () => {
  const { DateTimeWithOffset, WebsocketTarget, OptionalField } = await import('./schemas/common.ts');
  const schema = Type.Object({
    link: Type.String({ 'x-error-code': 'invalid_meeting_url' }),
    join_at: Type.Optional(DateTimeWithOffset({ errorCode: 'invalid_join_at', nullHint: 'leave it out to join now' })),
    stream: OptionalField(WebsocketTarget('x')),
    either: Type.Union([Type.String(), Type.Integer()]),
  });
  assert.deepEqual(messageFor(schema, { link: null, either: 'a' }), { message: 'link: may not be null', field: 'link', code: 'invalid_meeting_url' });
  assert.deepEqual(messageFor(schema, { link: 'l', either: 'a', join_at: null }), { message: 'join_at: may not be null; leave it out to join now', field: 'join_at', code: 'invalid_join_at' });
  assert.deepEqual(messageFor(schema, { link: 'l', either: 'a', stream: { websocket_url: null } }), { message: 'stream.websocket_url: may not be null; leave it out', field: 'stream.websocket_url', code: 'invalid_bot_config' });
  // A required union given null: said as a null too, not as each branch's type or value.
  assert.equal(messageFor(schema, { link: 'l', either: null }).message, 'either: may not be null');
  assert.equal(messageFor(Type.Object({ status: Status }), { status: null }).message, 'status: may not be null');
  assert.equal(messageFor(Type.Object({ status: Type.Optional(Status) }), { status: null }).message, 'status: may not be null; leave it out');
  // Another wrong type keeps the message it had.
  assert.equal(messageFor(schema, { link: 5, either: 'a' }).message, 'link: must be of type string');
});

test('a request without a body (validated as null) is told a body is required, not that it "may not be null"', () => {
  const schema = Type.Object({ link: Type.String({ 'x-error-code': 'invalid_meeting_url' }) });
  assert.deepEqual(messageFor(schema, null), { message: 'body: is required (a JSON object)', field: 'body', code: 'validation_error' });
  assert.equal(messageFor(Type.Object({ link: Type.Optional(Type.String()) }), null).message, 'body: is required (a JSON object)');
  // Another value in place of the object keeps its message.
  assert.equal(messageFor(schema, [1]).message, 'body: must be of type object');
});

test('a live stream object given empty ({}) is the field left out; one with its address, or another setting, is kept', async () => {
  const { LiveStreamFields } = await import('./schemas/common.ts');
  const validate = validatorCompiler({ schema: Type.Object({ ...LiveStreamFields }), httpPart: 'body', method: 'POST', url: '/x' }) as unknown as ((data: unknown) => boolean) & { errors: never[] };
  const body: Record<string, unknown> = { live_audio_required: {}, live_video_required: {}, socket_connection_url: {}, live_transcription_required: {} };
  assert.equal(validate(body), true, JSON.stringify(validate.errors));
  assert.deepEqual(body, {});
  const kept = { live_audio_required: { websocket_url: 'wss://a.example.com' }, live_transcription_required: { webhook_url: 'https://b.example.com' }, socket_connection_url: 'wss://c.example.com' };
  assert.equal(validate(kept), true);
  assert.deepEqual(Object.keys(kept).sort(), ['live_audio_required', 'live_transcription_required', 'socket_connection_url']);
  assert.deepEqual(messageFor(Type.Object({ ...LiveStreamFields }), { live_transcription_required: { webhook_url: null } }), { message: 'live_transcription_required.webhook_url: may not be null; leave it out', field: 'live_transcription_required.webhook_url', code: 'invalid_bot_config' });
  assert.deepEqual(messageFor(Type.Object({ ...LiveStreamFields }), { live_transcription_required: { websocket_url: 5 } }), { message: 'live_transcription_required.websocket_url: must be of type string', field: 'live_transcription_required.websocket_url', code: 'invalid_bot_config' });
});

test('a refused null inside a list is answered for the item, not with the hint of the whole field', async () => {
  const { GoogleConnectBody } = await import('./schemas/connection-schemas.ts');
  const connect = { google_client_id: 'a', google_client_secret: 'b', google_refresh_token: 'c' };
  // The field's own hint speaks of calendar_ids left out, which an item cannot be.
  assert.match(messageFor(GoogleConnectBody, { ...connect, calendar_ids: null }).message, /^calendar_ids: may not be null; give "all" or a list of calendar ids; leave it out only to sync every calendar/);
  assert.equal(messageFor(GoogleConnectBody, { ...connect, calendar_ids: ['primary', null] }).message, 'calendar_ids.1: may not be null; leave it out');
  const schema = Type.Object({
    names: Type.Optional(Type.Array(Type.String(), { 'x-null-hint': 'leave it out for none' })),
    pair: Type.Optional(Type.Tuple([Type.String(), Type.Integer()], { 'x-null-hint': 'leave it out for none' })),
  });
  assert.equal(messageFor(schema, { names: ['a', null] }).message, 'names.1: may not be null; leave it out');
  // A tuple's place cannot be left empty: only that a null is refused.
  assert.equal(messageFor(schema, { pair: ['a', null] }).message, 'pair.1: may not be null');
});
