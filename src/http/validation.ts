// Request validation: one Ajv for JSON bodies (no type coercion: a string "true" is not a boolean)
// and one for query strings and path parameters (where everything arrives as text).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { ApiError, type ErrorCode } from '../errors.ts';

/** Schema keyword naming the error code a failure of this property answers with. */
export const ERROR_CODE_KEYWORD = 'x-error-code';

/** Schema keyword: a number or boolean here is stored as its text (custom attributes). */
export const AS_TEXT_KEYWORD = 'x-as-text';

/**
 * Schema keyword of an optional property (set by OptionalField, schemas/common.ts): null in it is
 * the property left out. The property is removed before validation, so defaults apply and the
 * handler never sees the null.
 */
export const NULL_AS_ABSENT_KEYWORD = 'x-null-as-absent';

/**
 * Schema keyword of an optional object property: given empty (`{}`), it is the property left out,
 * removed before validation like a null above. MeetStream's live stream objects are turned on by
 * their presence: `{}` (what a sample generated from a schema sends) names no address to stream to.
 */
export const EMPTY_AS_ABSENT_KEYWORD = 'x-empty-as-absent';

/**
 * Schema keyword: what the message of a refused null adds, after "may not be null; " (e.g. "leave
 * it out to join now"). Without it, an optional field's says "leave it out" and a required one's
 * nothing more.
 */
export const NULL_HINT_KEYWORD = 'x-null-hint';

/** Where a refused null's error carries its hint (set by the body validator, read by the formatter). */
const NULL_HINT_PARAM = 'nullHint';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    verbose: true,
    strict: false,
  });
  addFormats(ajv);
  ajv.addKeyword({ keyword: ERROR_CODE_KEYWORD, schemaType: 'string' });
  ajv.addKeyword({ keyword: NULL_AS_ABSENT_KEYWORD, schemaType: 'boolean' });
  ajv.addKeyword({ keyword: EMPTY_AS_ABSENT_KEYWORD, schemaType: 'boolean' });
  ajv.addKeyword({ keyword: NULL_HINT_KEYWORD, schemaType: 'string' });
  ajv.addKeyword({
    keyword: AS_TEXT_KEYWORD,
    schemaType: 'boolean',
    modifying: true,
    validate: (enabled: boolean, data: unknown, _schema: unknown, place?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number }) => {
      if (enabled && place && (typeof data === 'number' || typeof data === 'boolean')) place.parentData[place.parentDataProperty] = String(data);
      return true;
    },
  });
  return ajv;
}

const bodyAjv = makeAjv(false);
const textAjv = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  const validate = ajv.compile(schema as object) as ValidateFunction;
  if (httpPart === 'body') {
    const dropNulls = nullsAsAbsent(schema);
    const validateBody = (data: unknown) => {
      dropNulls?.(data);
      const valid = validate(data);
      validateBody.errors = valid ? validate.errors : withNullHints(schema, validate.errors ?? []);
      return valid;
    };
    validateBody.errors = null as ValidateFunction['errors'];
    return validateBody;
  }
  if (httpPart !== 'querystring') return validate;
  const flags = booleanProperties(schema);
  const hasCursor = cursorProperty(schema);
  if (flags.length === 0 && !hasCursor) return validate;
  const validateQuery = (data: unknown) => {
    if (data !== null && typeof data === 'object') {
      const query = data as Record<string, unknown>;
      // Ajv reads "true" and "false" in a query string as booleans, and only those spellings.
      // Python's requests writes a boolean parameter as str() does: params={"purge_events": False}
      // arrives as purge_events=False. A flag is read in any case, as the events list's sync is.
      for (const name of flags) {
        const value = query[name];
        if (typeof value === 'string' && /^(true|false)$/i.test(value)) query[name] = value.toLowerCase();
      }
      // A client that pages with `cursor=${next ?? ''}` asks for the first page with an empty
      // cursor, and one that writes `cursor=${next}` or URLSearchParams({ cursor: next }) with
      // `cursor=null` or `cursor=undefined` (JavaScript's spellings of a missing value): that is
      // no cursor, not one this API did not issue. No cursor this API issues reads so.
      if (hasCursor && typeof query.cursor === 'string' && NO_CURSOR.has(query.cursor)) delete query.cursor;
    }
    const valid = validate(data);
    validateQuery.errors = validate.errors;
    return valid;
  };
  validateQuery.errors = null as ValidateFunction['errors'];
  return validateQuery;
};

/** How a query string spells a cursor that was never given. */
const NO_CURSOR: ReadonlySet<string> = new Set(['', 'null', 'undefined']);

type NullDropper = (data: unknown) => void;

/** How deep a body schema may mark fields NULL_AS_ABSENT_KEYWORD (bot_config.automatic_leave... is 6). */
const MAX_NULL_AS_ABSENT_DEPTH = 16;

/**
 * What removes, from a body, the nulls of the properties marked NULL_AS_ABSENT_KEYWORD, at any
 * depth the schema describes (bot_config.automatic_leave.waiting_room_timeout), in the objects of
 * a list too, and the null entries of a map whose values are marked (custom_attributes); null
 * when the schema marks none. A property the schema does not mark keeps its null, to be refused
 * or read as the schema says.
 *
 * A marked schema takes null, and the handler's type does not: so every marked schema must be one
 * this removes the null of. One it could not reach (deeper than MAX_NULL_AS_ABSENT_DEPTH), or a
 * list's item itself marked (an item cannot be left out of a list without moving the others), is
 * refused when the route is built, not met as a null at run time.
 */
function nullsAsAbsent(schema: unknown, depth = 0): NullDropper | null {
  if (schema === null || typeof schema !== 'object') return null;
  if (depth > MAX_NULL_AS_ABSENT_DEPTH) {
    if (marksNullAsAbsent(schema)) throw new Error(`a field taking null as left out is nested deeper than ${MAX_NULL_AS_ABSENT_DEPTH} levels, where it would not be removed`);
    return null;
  }
  const { properties, anyOf, patternProperties, additionalProperties, items } = schema as {
    properties?: Record<string, Record<string, unknown>>; anyOf?: unknown[]; patternProperties?: Record<string, Record<string, unknown>>; additionalProperties?: unknown; items?: unknown;
  };
  // A map (custom_attributes) whose values are marked: an entry given null is an entry not set.
  const entries = [...Object.values(patternProperties ?? {}), additionalProperties];
  const mapEntriesAbsent = entries.some((entry) => entry !== null && typeof entry === 'object' && (entry as Record<string, unknown>)[NULL_AS_ABSENT_KEYWORD] === true);
  const fields: { name: string; absent: boolean; emptyAbsent: boolean; inner: NullDropper | null }[] = [];
  for (const [name, property] of Object.entries(properties ?? {})) {
    const absent = property?.[NULL_AS_ABSENT_KEYWORD] === true;
    const emptyAbsent = property?.[EMPTY_AS_ABSENT_KEYWORD] === true;
    const inner = nullsAsAbsent(property, depth + 1);
    if (absent || emptyAbsent || inner !== null) fields.push({ name, absent, emptyAbsent, inner });
  }
  if (items !== null && typeof items === 'object' && (items as Record<string, unknown>)[NULL_AS_ABSENT_KEYWORD] === true) {
    throw new Error('a list item cannot take null as left out');
  }
  const eachItem = Array.isArray(items) ? null : nullsAsAbsent(items, depth + 1);
  const branches = (Array.isArray(anyOf) ? anyOf : []).map((branch) => nullsAsAbsent(branch, depth + 1)).filter((b): b is NullDropper => b !== null);
  if (fields.length === 0 && branches.length === 0 && !mapEntriesAbsent && eachItem === null) return null;
  return (data) => {
    if (data === null || typeof data !== 'object') return;
    if (Array.isArray(data)) {
      if (eachItem !== null) for (const item of data) eachItem(item);
      for (const branch of branches) branch(data);
      return;
    }
    const object = data as Record<string, unknown>;
    if (mapEntriesAbsent) {
      for (const [name, value] of Object.entries(object)) if (value === null && !Object.hasOwn(properties ?? {}, name)) delete object[name];
    }
    for (const { name, absent, emptyAbsent, inner } of fields) {
      if (!Object.hasOwn(object, name)) continue;
      const value = object[name];
      if (value === null) {
        if (absent) delete object[name];
      } else if (emptyAbsent && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) {
        delete object[name];
      } else if (inner !== null) {
        inner(object[name]);
      }
    }
    for (const branch of branches) branch(data);
  };
}

/**
 * Ajv's errors, those about a null given where the schema takes none carrying what their message
 * adds (NULL_HINT_PARAM): the field's own hint, "leave it out" when its object does not require
 * it (or it is a map's entry or a list's item), else nothing.
 */
function withNullHints(schema: unknown, errors: ErrorObject[]): ErrorObject[] {
  for (const error of errors) {
    // The body itself: a request sent without one (Fastify validates a missing body as null) is
    // told that it needs one (validationErrorToApiError), not that it "may not be null".
    if (error.data !== null || error.instancePath === '' || !['type', 'const', 'enum'].includes(error.keyword)) continue;
    const place = propertyAt(schema, error.schemaPath);
    const hint = place === null ? '' : typeof place.property?.[NULL_HINT_KEYWORD] === 'string' ? place.property[NULL_HINT_KEYWORD] as string : place.isOptional ? 'leave it out' : '';
    error.params = { ...error.params, [NULL_HINT_PARAM]: hint };
  }
  return errors;
}

/**
 * The innermost property or list item a schema path goes through
 * (`#/properties/a/properties/b/anyOf/0/type`: b; `#/properties/a/items/type`: a's item), with
 * whether it may be left out (a list's item may, a tuple's may not); null when the path names none.
 */
function propertyAt(schema: unknown, schemaPath: string): { property: Record<string, unknown> | undefined; isOptional: boolean } | null {
  const segments = schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean).map(unescapePointer);
  let node: unknown = schema;
  let found: { property: Record<string, unknown> | undefined; isOptional: boolean } | null = null;
  for (let i = 0; i < segments.length && node !== null && typeof node === 'object'; i++) {
    const segment = segments[i]!;
    const object = node as Record<string, unknown>;
    if (segment === 'properties' && i + 1 < segments.length) {
      const name = segments[++i]!;
      node = (object.properties as Record<string, unknown> | undefined)?.[name];
      const required = Array.isArray(object.required) ? object.required as unknown[] : [];
      found = { property: node as Record<string, unknown> | undefined, isOptional: !required.includes(name) };
    } else if (segment === 'patternProperties' && i + 1 < segments.length) {
      node = (object.patternProperties as Record<string, unknown> | undefined)?.[segments[++i]!];
      found = { property: node as Record<string, unknown> | undefined, isOptional: true };
    } else if (segment === 'additionalProperties') {
      node = object.additionalProperties;
      found = { property: node as Record<string, unknown> | undefined, isOptional: true };
    } else if (segment === 'items' && !Array.isArray(object.items)) {
      // A list's item: its own hint, else "leave it out" (of the list); never the list's hint,
      // which speaks of the whole field left out.
      node = object.items;
      found = { property: node as Record<string, unknown> | undefined, isOptional: true };
    } else if ((segment === 'prefixItems' || segment === 'items') && i + 1 < segments.length) {
      // A tuple's item: its place cannot be left empty, so only its own hint.
      node = (object[segment] as unknown[] | undefined)?.[Number(segments[++i])];
      found = { property: node as Record<string, unknown> | undefined, isOptional: false };
    } else {
      node = object[segment];
    }
  }
  return found;
}

/** Whether a schema marks anything, at any depth, NULL_AS_ABSENT_KEYWORD. */
function marksNullAsAbsent(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (!Array.isArray(node) && (node as Record<string, unknown>)[NULL_AS_ABSENT_KEYWORD] === true) return true;
  return Object.values(node).some(marksNullAsAbsent);
}

function propertiesOf(schema: unknown): Record<string, { type?: unknown }> {
  return (schema as { properties?: Record<string, { type?: unknown }> } | null)?.properties ?? {};
}

/** The names of an object schema's boolean properties (a query's flags). */
function booleanProperties(schema: unknown): string[] {
  return Object.entries(propertiesOf(schema)).filter(([, property]) => property?.type === 'boolean').map(([name]) => name);
}

/** Whether a query schema takes a paging `cursor`. */
function cursorProperty(schema: unknown): boolean {
  return propertiesOf(schema).cursor?.type === 'string';
}

const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** Turns Ajv's first error into an ApiError whose message names the field. */
export function validationErrorToApiError(errors: ErrorObject[], part: string): ApiError {
  if (errors.length === 0) return new ApiError('validation_error', 'Request is invalid');
  const repeated = part === 'querystring' ? repeatedParameter(errors) : null;
  if (repeated !== null) {
    return new ApiError('validation_error', `${repeated} (query): must be given once, not repeated`, { details: { field: repeated, location: 'query' } });
  }
  const { error: first, choices } = errorToReport(errors);
  const segments = first.instancePath.split('/').filter(Boolean).map(unescapePointer);
  let propertySchema: Record<string, unknown> | undefined = first.parentSchema as Record<string, unknown> | undefined;
  if (first.keyword === 'required') {
    const missing = String((first.params as { missingProperty: string }).missingProperty);
    segments.push(missing);
    const properties = (first.parentSchema as { properties?: Record<string, Record<string, unknown>> } | undefined)?.properties;
    propertySchema = properties?.[missing];
  }
  const field = segments.length > 0 ? segments.join('.') : PART_NAMES[part] ?? part;
  const where = part === 'body' ? '' : ` (${PART_NAMES[part] ?? part})`;
  const code = (propertySchema?.[ERROR_CODE_KEYWORD] as ErrorCode | undefined) ?? 'validation_error';
  // No body at all (or a JSON null): the route takes an object.
  if (part === 'body' && segments.length === 0 && first.data === null) {
    return new ApiError(code, 'body: is required (a JSON object)', { details: { field, location: 'body' } });
  }
  // A null where none is taken: said so, not as the types it could have been.
  const nullHint = first.data === null ? (first.params as Record<string, unknown>)[NULL_HINT_PARAM] : undefined;
  const text = typeof nullHint === 'string' ? `may not be null${nullHint === '' ? '' : `; ${nullHint}`}` : choices ?? describe(first);
  return new ApiError(code, `${field}${where}: ${text}`, { details: { field, location: PART_NAMES[part] ?? part } });
}

/**
 * The error worth reporting. A value that matches no branch of a union (anyOf) fails each branch
 * in turn, and the first failure alone says little ("must be equal to constant" for an enum
 * written as literals). When a branch took the value's type and failed inside it (a list with an
 * empty item), that failure is reported; otherwise the branches are listed: "must be one of a, b",
 * "must be all, or of type array", with ", or null" for a nullable field.
 */
function errorToReport(errors: readonly ErrorObject[]): { error: ErrorObject; choices: string | null } {
  const first = errors[0]!;
  const union = errors.find((e) => e.keyword === 'anyOf' && isWithin(first.instancePath, e.instancePath));
  if (!union) return { error: first, choices: null };
  // Nested unions (a nullable enum) report an anyOf each: none of them says what failed.
  const branches = errors.filter((e) => e.keyword !== 'anyOf' && isWithin(e.instancePath, union.instancePath));
  const specific = branches.find((e) => e.instancePath !== union.instancePath || (e.keyword !== 'const' && e.keyword !== 'type'));
  if (specific) return { error: specific, choices: null };
  const values = branches.filter((e) => e.keyword === 'const').map((e) => String((e.params as { allowedValue: unknown }).allowedValue));
  const types = [...new Set(branches.filter((e) => e.keyword === 'type').flatMap((e) => [(e.params as { type: unknown }).type].flat().map(String)))];
  const alternatives = [
    ...(values.length > 0 ? [values.length > 1 ? `one of ${values.join(', ')}` : values[0]!] : []),
    ...types.filter((t) => t !== 'null').map((t) => `of type ${t}`),
  ];
  if (alternatives.length === 0) return { error: first, choices: null };
  return { error: branches[0] ?? first, choices: `must be ${alternatives.join(', or ')}${types.includes('null') ? ', or null' : ''}` };
}

/**
 * A query parameter given more than once (`?status=failed&status=delivered`) arrives as a list; for
 * a parameter that takes one value, that is the error to name, not each of its choices in turn.
 */
function repeatedParameter(errors: readonly ErrorObject[]): string | null {
  const first = errors[0]!;
  const segments = first.instancePath.split('/').filter(Boolean);
  if (segments.length !== 1 || !Array.isArray(first.data)) return null;
  // The parameter's own schema: the union's, when it has branches, else the one that failed.
  const union = errors.find((e) => e.instancePath === first.instancePath && e.keyword === 'anyOf');
  return acceptsList((union ?? first).parentSchema) ? null : unescapePointer(segments[0]!);
}

function acceptsList(schema: unknown): boolean {
  if (schema === null || typeof schema !== 'object') return false;
  const { type, anyOf } = schema as { type?: unknown; anyOf?: unknown[] };
  return [type].flat().includes('array') || (Array.isArray(anyOf) && anyOf.some(acceptsList));
}

function isWithin(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}/`);
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': return 'is required';
    case 'type': {
      // Several types are named together ("of type string, number or boolean"); an object that also
      // takes null (OptionalField) says so as a union does: "must be of type object, or null".
      const types = [params.type].flat().map(String);
      const named = types.filter((t) => t !== 'null');
      const shape = named.length === 1 && named[0] === 'integer' ? 'an integer' : `of type ${named.length > 1 ? `${named.slice(0, -1).join(', ')} or ${named.at(-1)!}` : named[0] ?? 'null'}`;
      return `must be ${shape}${types.includes('null') && named.length > 0 ? ', or null' : ''}`;
    }
    case 'format':
      return params.format === 'date-time'
        ? 'must be an ISO 8601 date-time with an offset, e.g. 2026-11-24T15:00:00Z'
        : `must be a valid ${String(params.format)}`;
    case 'minLength': return `must be at least ${String(params.limit)} characters`;
    case 'maxLength': return `must be at most ${String(params.limit)} characters`;
    case 'minimum': return `must be >= ${String(params.limit)}`;
    case 'maximum': return `must be <= ${String(params.limit)}`;
    case 'minItems': return `must have at least ${String(params.limit)} items`;
    case 'maxItems': return `must have at most ${String(params.limit)} items`;
    case 'maxProperties': return `must have at most ${String(params.limit)} properties`;
    case 'enum': return `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'pattern': return 'has an invalid format';
    case 'additionalProperties': return `has an unknown property "${String(params.additionalProperty)}"`;
    default: return error.message ?? 'is invalid';
  }
}
