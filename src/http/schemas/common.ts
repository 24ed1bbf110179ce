import { Type, type Static, type TSchema } from 'typebox';
import { AS_TEXT_KEYWORD, EMPTY_AS_ABSENT_KEYWORD, ERROR_CODE_KEYWORD, NULL_AS_ABSENT_KEYWORD, NULL_HINT_KEYWORD } from '../validation.ts';

/**
 * Marks a route whose body may be left out (read as {}): its OpenAPI requestBody is not required.
 * @fastify/swagger marks every body required, so the document is corrected once it is built.
 */
export const BODY_OPTIONAL_KEYWORD = 'x-body-optional';

declare module 'fastify' {
  interface FastifySchema {
    [BODY_OPTIONAL_KEYWORD]?: true;
  }
}

export const ErrorResponse = Type.Object({
  error: Type.String(),
  message: Type.String({ description: 'The same text as error (MeetStream clients read message)' }),
  code: Type.String(),
  status_code: Type.Integer(),
  details: Type.Optional(Type.Object({}, { additionalProperties: true })),
  bot_id: Type.Optional(Type.String()),
}, { additionalProperties: true, $id: 'Error' });

/**
 * A date-time with offset in a query string. Checked by the service (parseQueryInstant), not by
 * format: an offset's `+` pasted into a URL unencoded arrives as a space, and is read as the `+`.
 */
export function QueryDateTimeWithOffset(options: { description: string }) {
  return Type.String({ maxLength: 64, description: `${options.description}; ISO 8601 with an offset`, [ERROR_CODE_KEYWORD]: 'invalid_time' });
}

/** ISO 8601 date-time that must carry an offset. `nullHint`: what a refused null's message adds. */
export function DateTimeWithOffset(options: { description?: string; errorCode?: string; nullHint?: string } = {}) {
  return Type.String({
    format: 'date-time',
    maxLength: 64,
    ...(options.description ? { description: options.description } : {}),
    ...(options.nullHint ? { [NULL_HINT_KEYWORD]: options.nullHint } : {}),
    ...(options.errorCode ? { [ERROR_CODE_KEYWORD]: options.errorCode } : { [ERROR_CODE_KEYWORD]: 'invalid_time' }),
  });
}

/**
 * custom_attributes as a request gives them: at most 50, names up to 100 characters, values text
 * up to 1,000 characters, or a number or boolean, which is kept as its text (MeetStream's
 * create_bot takes "arbitrary metadata" and recommends string values: a client that sends
 * `{ "tenant_id": 42 }` is not refused; filters, webhooks and listings then carry "42").
 * With nullIsUnset, an attribute given null is one not set (`{ "customer_id": user?.id ?? null }`);
 * without it (a request that may merge into an existing bot: a schedule under a key already
 * used, auto-schedule, a PATCH, where null would read as "remove"), null is refused.
 */
export function CustomAttributesInput(options: { errorCode: string; description?: string; nullIsUnset?: boolean }) {
  // The code goes on the values and names too: a bad value is the same field's error as a bad whole.
  const value = Type.Unsafe<string>({
    type: options.nullIsUnset === true ? ['string', 'number', 'boolean', 'null'] : ['string', 'number', 'boolean'],
    maxLength: 1000, [AS_TEXT_KEYWORD]: true, [ERROR_CODE_KEYWORD]: options.errorCode,
    ...(options.nullIsUnset === true ? { [NULL_AS_ABSENT_KEYWORD]: true } : {}),
  });
  return Type.Record(Type.String({ maxLength: 100, [ERROR_CODE_KEYWORD]: options.errorCode }), value, {
    maxProperties: 50, [ERROR_CODE_KEYWORD]: options.errorCode, ...(options.description ? { description: options.description } : {}),
  });
}

/** An object Rollcall passes on without reading its fields (bot runtime and provider settings). */
export function FreeObject(description: string) {
  return Type.Object({}, { additionalProperties: true, description, 'x-error-code': 'invalid_bot_config' });
}

/** bot_config.provider_settings (src/domain/provider-settings.ts). */
export const ProviderSettings = FreeObject('Create-bot fields in a bot provider\'s own names, one object per provider: { "recall": { "recording_config": ... } }, { "attendee": { "transcription_settings": ... } }, { "meetstream": { ... } }. Only the section of the provider the deployment drives is sent, over the fields Rollcall derives; the fields Rollcall sets itself (meeting_url, join_at, bot_name, metadata, webhooks, ...) are refused');

export function Nullable<T extends TSchema>(schema: T, options: Record<string, unknown> = {}) {
  return Type.Union([schema, Type.Null()], options);
}

/**
 * An optional request field that also takes null, read as the field left out (its default
 * applies): JavaScript clients write `field: null` for "not set" where MeetStream's Python client
 * leaves the field out. The validator removes the null before anything else reads the body
 * (NULL_AS_ABSENT_KEYWORD), so the handler's type stays the field's own. For a field where null
 * means something else (clearing a value), use Optional(Nullable(...)) and read the null.
 */
export function OptionalField<T extends TSchema>(schema: T) {
  const { default: fallback, description, [ERROR_CODE_KEYWORD]: code, type } = schema as Record<string, unknown>;
  const nullNote = typeof description === 'string' ? `${description}. null: as if left out` : 'null: as if left out';
  if (type === 'object') {
    // An object takes null beside its own type, not through a union: Ajv fills no default inside
    // a union at any depth (default_bot_config's audio_required would lose its true), and the
    // OpenAPI document shows the defaults where they apply.
    return Type.Optional(Type.Unsafe<Static<T>>({ ...(schema as object), type: ['object', 'null'], [NULL_AS_ABSENT_KEYWORD]: true, description: nullNote }));
  }
  return Type.Optional(Type.Unsafe<Static<T>>({
    anyOf: [schema, { type: 'null' }],
    [NULL_AS_ABSENT_KEYWORD]: true,
    // Ajv fills defaults only from a property's own schema, never from inside a union.
    ...(fallback !== undefined ? { default: fallback } : {}),
    description: nullNote,
    ...(code !== undefined ? { [ERROR_CODE_KEYWORD]: code } : {}),
  }));
}

/**
 * An optional object field (OptionalField) that, given empty (`{}`), is also left out: a live
 * stream object, whose presence turns the stream on, says nothing without its address.
 */
export function EmptyAsAbsent<T extends TSchema>(schema: T): T {
  // A copy with its hidden modifiers (TypeBox's optional mark is not enumerable).
  return Object.defineProperty(Object.create(Object.getPrototypeOf(schema) as object, Object.getOwnPropertyDescriptors(schema)) as T, EMPTY_AS_ABSENT_KEYWORD, { value: true, enumerable: true });
}

// MeetStream's live streams, turned on by the object's presence (create_bot's CreateBotRequest,
// docs.meetstream.ai/api-reference/endpoint/post-create-bot; the Node SDK's CreateBotParams,
// meetstream-ai/meetstream-node src/types.ts): live_audio_required, live_video_required and
// socket_connection_url take { websocket_url }, live_transcription_required { webhook_url } (the
// older create_bot reference also { websocket_url }). An address given null is refused rather than
// dropped: dropped, { "websocket_url": null } would become {}, a stream turned on with no address.
// The object given empty ({}, what a sample generated from the schema sends) is the stream left out.
const StreamAddress = (scheme: string) => Type.String({ maxLength: 2048, [ERROR_CODE_KEYWORD]: 'invalid_bot_config', description: `The ${scheme} address the stream is sent to (null is refused: the object turns the stream on)` });

/** { websocket_url }: live_audio_required, live_video_required, socket_connection_url. */
export const WebsocketTarget = (description: string) => Type.Object({ websocket_url: Type.Optional(StreamAddress('ws(s)')) }, { additionalProperties: true, description, [ERROR_CODE_KEYWORD]: 'invalid_bot_config' });

/** live_transcription_required: where live transcript chunks go; one of its addresses is required (bot-config.ts). */
export const LiveTranscriptionTarget = Type.Object({
  webhook_url: Type.Optional(StreamAddress('http(s)')),
  websocket_url: Type.Optional(StreamAddress('ws(s)')),
}, { additionalProperties: true, [ERROR_CODE_KEYWORD]: 'invalid_bot_config', description: 'Live transcript chunks, POSTed to webhook_url (or sent to websocket_url); passed to the bot runtime. MeetStream takes it only with a *_streaming transcription provider (or meeting_captions); {} is the field left out' });

/** The stream fields of a bot config (create_bot and the calendar bot_config alike); `{}` or null in any is that stream left out. */
export const LiveStreamFields = {
  socket_connection_url: EmptyAsAbsent(OptionalField(Type.Union([
    WebsocketTarget('Passed to the bot runtime'),
    Type.String({ maxLength: 2048, description: 'The older create_bot shape: the address itself, sent on as { websocket_url }' }),
  ], { [ERROR_CODE_KEYWORD]: 'invalid_bot_config' }))),
  live_audio_required: EmptyAsAbsent(OptionalField(WebsocketTarget('Passed to the bot runtime; {} is the field left out'))),
  live_video_required: EmptyAsAbsent(OptionalField(WebsocketTarget('Passed to the bot runtime; {} is the field left out'))),
  live_transcription_required: EmptyAsAbsent(OptionalField(LiveTranscriptionTarget)),
};

/** The 4xx answers every authenticated route may give, for the OpenAPI document (403: unknown or revoked key). */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorResponse> {
  const result: Record<number, typeof ErrorResponse> = {};
  for (const status of [400, 401, 403, ...statuses]) result[status] = ErrorResponse;
  return result;
}
