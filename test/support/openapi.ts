// Reads the app's own OpenAPI document (generated from the same route schemas that validate
// requests) and answers the questions the robustness tests ask of it: which operations exist, what
// they take, and whether an answer is one the document and the error catalog allow.
import { createHash } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import { sql } from 'kysely';
import addFormatsModule from 'ajv-formats';
import { ERROR_CATALOG } from '../../src/errors.ts';
import type { TestRollcall } from './harness.ts';
import { appTableNames } from './app-tables.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export type JsonSchema = Record<string, any>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  /** "POST /api/v1/calendar/schedule/{event_id}": how reports and failures name it. */
  id: string;
  method: string;
  path: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  body: { schema: JsonSchema; required: boolean } | null;
  /** Status code -> JSON schema of the answer (null when the document gives no schema). */
  responses: Map<number, JsonSchema | null>;
  /** The operation says it needs no credentials (`security: []`). */
  isPublic: boolean;
  description: string;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, any>>;
  components?: Record<string, any>;
  security?: unknown[];
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

export async function fetchOpenApi(rc: TestRollcall): Promise<OpenApiDocument> {
  const res = await rc.request('GET', '/openapi.json');
  if (res.status !== 200 || typeof res.body !== 'object') throw new Error(`GET /openapi.json answered ${res.status}`);
  return res.body as OpenApiDocument;
}

/** Every operation under `prefix`, in document order. */
export function listOperations(doc: OpenApiDocument, prefix = '/api/v1'): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith(prefix)) continue;
    const shared: any[] = item.parameters ?? [];
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params: Parameter[] = [...shared, ...(op.parameters ?? [])].map((p: any) => ({ name: p.name, in: p.in, required: p.required === true, schema: p.schema ?? {} }));
      const jsonBody = op.requestBody?.content?.['application/json'];
      const responses = new Map<number, JsonSchema | null>();
      for (const [status, answer] of Object.entries<any>(op.responses ?? {})) {
        if (!/^\d{3}$/.test(status)) continue;
        responses.set(Number(status), answer?.content?.['application/json']?.schema ?? null);
      }
      operations.push({
        id: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        body: jsonBody ? { schema: jsonBody.schema ?? {}, required: op.requestBody.required === true } : null,
        responses,
        isPublic: Array.isArray(op.security) && op.security.length === 0,
        description: `${op.summary ?? ''} ${op.description ?? ''}`,
      });
    }
  }
  return operations;
}

/** Percent-encodes the UTF-8 bytes of a value (lone surrogates become U+FFFD, never a throw). */
export function encodeComponent(value: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name}`);
    return encodeComponent(value);
  });
}

export function buildQuery(pairs: [string, string][]): string {
  if (pairs.length === 0) return '';
  return `?${pairs.map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`).join('&')}`;
}

/**
 * Checks one answer against the document and the error catalog. Returns what is wrong, or an
 * empty list. 2xx: the status is documented and the body matches its schema. 4xx: the spec's error
 * shape with a catalogued code whose status is the one sent. Anything else (5xx, 1xx, 3xx) is wrong.
 */
export class AnswerChecker {
  readonly #ajv: Ajv;
  readonly #doc: OpenApiDocument;
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(doc: OpenApiDocument) {
    this.#doc = doc;
    this.#ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.#ajv);
  }

  check(op: Operation, status: number, body: unknown, headers: Record<string, unknown> = {}): string[] {
    const problems: string[] = [];
    const contentType = String(headers['content-type'] ?? '');
    if (status >= 200 && status < 300) {
      if (!op.responses.has(status)) return [`${status} is not a documented answer of ${op.id}`];
      const schema = op.responses.get(status);
      if (schema === null || schema === undefined) return problems;
      if (!contentType.startsWith('application/json')) problems.push(`content-type ${contentType} is not JSON`);
      const validate = this.#validator(`${op.id} ${status}`, schema);
      if (!validate(body)) problems.push(`body does not match the documented ${status} schema: ${this.#ajv.errorsText(validate.errors, { separator: '; ' })}`);
      return problems;
    }
    if (status >= 400 && status < 500) return checkErrorBody(status, body, contentType);
    // MeetStream's Idempotency-Key replay: a success with the original object, sent as 507. Only
    // where the operation documents it, with its schema.
    if (status === 507 && op.responses.get(507)) {
      const validate = this.#validator(`${op.id} 507`, op.responses.get(507)!);
      return validate(body) ? [] : [`body does not match the documented 507 schema: ${this.#ajv.errorsText(validate.errors, { separator: '; ' })}`];
    }
    // The one 5xx allowed: a 503 the operation documents, reporting that an outside service
    // (a calendar provider or feed) is not answering. Any other 5xx is a bug.
    if (status === 503 && op.responses.has(503)) return checkErrorBody(status, body, contentType);
    return [`status ${status}`];
  }

  #validator(key: string, schema: JsonSchema): ValidateFunction {
    let validate = this.#validators.get(key);
    if (!validate) {
      // Local "#/components/..." references resolve against the root of the compiled schema.
      validate = this.#ajv.compile({ ...schema, ...(this.#doc.components ? { components: this.#doc.components } : {}) });
      this.#validators.set(key, validate);
    }
    return validate;
  }
}

/** The spec's error shape, `{ error, message, code, status_code, details? }` (message = error), with a code from the catalog. */
export function checkErrorBody(status: number, body: unknown, contentType = 'application/json'): string[] {
  const problems: string[] = [];
  if (!contentType.startsWith('application/json')) problems.push(`content-type ${contentType} is not JSON`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [...problems, `error body is not an object: ${JSON.stringify(body)?.slice(0, 200)}`];
  const b = body as Record<string, unknown>;
  if (typeof b.error !== 'string' || b.error.length === 0) problems.push('error is not a non-empty string');
  if (b.message !== b.error) problems.push('message is not the same text as error');
  if (typeof b.code !== 'string') problems.push('code is not a string');
  if (b.status_code !== status) problems.push(`status_code ${String(b.status_code)} is not the HTTP status ${status}`);
  if (b.details !== undefined && (typeof b.details !== 'object' || b.details === null || Array.isArray(b.details))) problems.push('details is not an object');
  const entry = (ERROR_CATALOG as Record<string, { status: number }>)[String(b.code)];
  if (!entry) problems.push(`code ${String(b.code)} is not in the error catalog`);
  else if (entry.status !== status) problems.push(`code ${String(b.code)} is catalogued as ${entry.status}, sent with ${status}`);
  return problems;
}

/**
 * A fingerprint of everything the database holds: per table, the row count and a hash of the rows
 * (order-independent). Tables are discovered (once per app), so tables added later are covered
 * too. `ignoreColumns` names bookkeeping columns that any authenticated request may touch.
 * PostgreSQL hashes on the server in one round trip; SQLite is in-process, so rows are read.
 */
export async function snapshotDatabase(rc: TestRollcall, ignoreColumns: Record<string, string[]> = {}): Promise<Map<string, { rows: number; hash: string }>> {
  const { db, engine } = rc.database;
  let tables = tableCache.get(rc.database);
  if (!tables) {
    tables = await appTableNames(rc.database, rc.testDatabase.searchPath);
    tableCache.set(rc.database, tables);
  }
  const snapshot = new Map<string, { rows: number; hash: string }>();
  if (engine === 'postgres') {
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
    const columns = tables.map((table, i) => {
      const row = (ignoreColumns[table] ?? []).reduce((expr, column) => `(${expr} - ${literal(column)})`, 'to_jsonb(t)');
      return `(select count(*)::text || ':' || md5(coalesce(string_agg(h, ',' order by h), '')) from (select md5(${row}::text) as h from ${quote(table)} t) s) as c${i}`;
    });
    const result = await sql.raw<Record<string, string>>(`select ${columns.join(', ')}`).execute(db);
    const row = result.rows[0]!;
    tables.forEach((table, i) => {
      const [rows, hash] = row[`c${i}`]!.split(':');
      snapshot.set(table, { rows: Number(rows), hash: hash! });
    });
    return snapshot;
  }
  for (const table of tables) {
    const rows = await db.selectFrom(table as never).selectAll().execute();
    const ignored = ignoreColumns[table] ?? [];
    const lines = rows.map((row) => {
      const copy: Record<string, unknown> = { ...(row as Record<string, unknown>) };
      for (const column of ignored) delete copy[column];
      return JSON.stringify(copy, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    }).sort();
    const hash = createHash('sha256');
    for (const line of lines) hash.update(line).update('\n');
    snapshot.set(table, { rows: rows.length, hash: hash.digest('hex') });
  }
  return snapshot;
}

const tableCache = new WeakMap<object, string[]>();

/** The tables whose fingerprint differs, with row counts before and after. */
export function diffSnapshots(before: Map<string, { rows: number; hash: string }>, after: Map<string, { rows: number; hash: string }>): string[] {
  const changed: string[] = [];
  for (const table of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(table);
    const b = after.get(table);
    if (a?.hash !== b?.hash) changed.push(`${table} (rows ${a?.rows ?? '-'} -> ${b?.rows ?? '-'})`);
  }
  return changed;
}

/** A request body: none, a JSON value, or raw text with its own content type. */
export type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; contentType: string; payload: string };

export interface Answer {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

/** One request through inject, with the body exactly as described (the harness always sends JSON). */
export async function send(rc: TestRollcall, method: string, url: string, authorization: string | undefined, body: Body, extraHeaders: Record<string, string> = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...extraHeaders };
  if (authorization !== undefined) headers.authorization = authorization;
  let payload: string | undefined;
  if (body.kind === 'json') {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.value) ?? 'null';
  } else if (body.kind === 'raw') {
    headers['content-type'] = body.contentType;
    payload = body.payload;
  }
  const response = await rc.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) });
  let parsed: unknown = response.body;
  try {
    parsed = response.json();
  } catch {
    // left as text; the checker reports a non-JSON answer
  }
  return { status: response.statusCode, body: parsed, headers: response.headers as Record<string, unknown> };
}

/** Resolves with the promise, or rejects when it takes longer than `ms` (a hung request). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
