import { Type, type TSchema } from 'typebox';
import { ERROR_CODE_KEYWORD } from '../validation.ts';

export const ErrorResponse = Type.Object({
  error: Type.String(),
  message: Type.String({ description: 'The same text as error (MeetStream clients read message)' }),
  code: Type.String(),
  status_code: Type.Integer(),
  details: Type.Optional(Type.Object({}, { additionalProperties: true })),
  bot_id: Type.Optional(Type.String()),
}, { additionalProperties: true, $id: 'Error' });

/** ISO 8601 date-time that must carry an offset. */
export function DateTimeWithOffset(options: { description?: string; errorCode?: string } = {}) {
  return Type.String({
    format: 'date-time',
    maxLength: 64,
    ...(options.description ? { description: options.description } : {}),
    ...(options.errorCode ? { [ERROR_CODE_KEYWORD]: options.errorCode } : { [ERROR_CODE_KEYWORD]: 'invalid_time' }),
  });
}

export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

/** The 4xx answers every authenticated route may give, for the OpenAPI document (403: unknown or revoked key). */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorResponse> {
  const result: Record<number, typeof ErrorResponse> = {};
  for (const status of [400, 401, 403, ...statuses]) result[status] = ErrorResponse;
  return result;
}
