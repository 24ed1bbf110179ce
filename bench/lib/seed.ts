// Fast seeding: rows shaped exactly like the schedule endpoint writes them (BotScheduling
// #createBot: bot, bot_events link, schedule, decision, status change; no webhook row because
// the bots have no callback_url), written with bulk inserts instead of one request per bot.
// checkSeedShape() compares a generated bot with one the real service created, so a change in
// what the service writes shows up as a warning instead of silently skewing the figures.
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { parseConfig } from '../../src/config.ts';
import { createRollcall } from '../../src/container.ts';
import type { Engine } from '../../src/db/database.ts';
import type { BotEventRow, BotRow, ScheduleRow } from '../../src/db/schema.ts';
import { applyBotConfigDefaults, deduplicationKeyHash } from '../../src/domain/bot-config.ts';
import { parseMeetingLink } from '../../src/domain/meeting-url.ts';
import { newId, randomToken } from '../../src/lib/ids.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { formatInstant } from '../../src/lib/time.ts';
import type { BenchDatabase } from './databases.ts';

type Value = string | number | null;
type Row = Record<string, Value>;

interface TableSpec {
  name: string;
  /** Column name and PostgreSQL array element type for unnest(). */
  columns: [string, 'text' | 'bigint' | 'integer'][];
}

const TABLES: Record<string, TableSpec> = {
  events: { name: 'events', columns: [
    ['id', 'text'], ['user_id', 'text'], ['calendar_id', 'text'], ['provider_event_id', 'text'], ['title', 'text'], ['description', 'text'],
    ['location', 'text'], ['start_ms', 'bigint'], ['end_ms', 'bigint'], ['timezone', 'text'], ['meeting_url', 'text'], ['meeting_platform', 'text'],
    ['meeting_identity', 'text'], ['recurrence', 'text'], ['recurring_event_id', 'text'], ['original_start_ms', 'bigint'], ['status', 'text'],
    ['is_deleted', 'integer'], ['raw', 'text'], ['created_at', 'bigint'], ['updated_at', 'bigint'], ['provider_series_id', 'text'],
    ['platform', 'text'], ['provider_calendar_id', 'text'],
  ] },
  bots: { name: 'bots', columns: [
    ['id', 'text'], ['user_id', 'text'], ['deduplication_key', 'text'], ['deduplication_key_hash', 'text'], ['meeting_url', 'text'], ['meeting_platform', 'text'], ['meeting_identity', 'text'],
    ['status', 'text'], ['bot_config', 'text'], ['custom_attributes', 'text'], ['join_at_ms', 'bigint'], ['is_join_time_pinned', 'integer'],
    ['meeting_end_ms', 'bigint'], ['launched_at', 'bigint'], ['source', 'text'], ['created_at', 'bigint'], ['updated_at', 'bigint'],
    ['provider_name', 'text'], ['provider_bot_id', 'text'], ['idempotency_key_hash', 'text'], ['data_deleted_at', 'bigint'], ['is_live', 'integer'],
  ] },
  bot_events: { name: 'bot_events', columns: [
    ['bot_id', 'text'], ['user_id', 'text'], ['event_id', 'text'], ['occurrence_key', 'text'], ['start_ms', 'bigint'], ['end_ms', 'bigint'],
    ['is_live', 'integer'], ['created_at', 'bigint'], ['updated_at', 'bigint'],
  ] },
  schedules: { name: 'schedules', columns: [
    ['id', 'text'], ['bot_id', 'text'], ['user_id', 'text'], ['schedule_group', 'text'], ['due_at_ms', 'bigint'], ['state', 'text'], ['attempts', 'integer'],
    ['lease_owner', 'text'], ['lease_until_ms', 'bigint'], ['idempotency_key', 'text'], ['status_token', 'text'], ['last_error', 'text'],
    ['created_at', 'bigint'], ['updated_at', 'bigint'],
  ] },
  bot_decisions: { name: 'bot_decisions', columns: [['bot_id', 'text'], ['at_ms', 'bigint'], ['kind', 'text'], ['reason', 'text'], ['details', 'text']] },
  bot_status_changes: { name: 'bot_status_changes', columns: [['bot_id', 'text'], ['at_ms', 'bigint'], ['status', 'text'], ['reason', 'text']] },
};

const JOIN_LEAD_MS = 180_000;
const MEETING_MS = 30 * 60_000;
const APPLIED_CONFIG = JSON.stringify(applyBotConfigDefaults({}));

export interface Batch {
  events: Row[];
  bots: Row[];
  bot_events: Row[];
  schedules: Row[];
  bot_decisions: Row[];
  bot_status_changes: Row[];
}

function emptyBatch(): Batch {
  return { events: [], bots: [], bot_events: [], schedules: [], bot_decisions: [], bot_status_changes: [] };
}

/** An API-written single event (calendar-events #buildRow) with a Zoom link. */
export function eventRow(userId: string, index: number, startMs: number, now: number) {
  const title = `Bench meeting ${index}`;
  const meetingUrl = `https://zoom.us/j/${90_000_000_000 + index}`;
  return {
    id: newId('evt'), user_id: userId, calendar_id: null, provider_event_id: null, title, description: null, location: null,
    start_ms: startMs, end_ms: startMs + MEETING_MS, timezone: null, meeting_url: meetingUrl, meeting_platform: 'zoom',
    meeting_identity: `zoom:${90_000_000_000 + index}`, recurrence: null, recurring_event_id: null, original_start_ms: null,
    status: 'confirmed', is_deleted: 0, raw: JSON.stringify({ summary: title, description: null, location: null }), created_at: now, updated_at: now,
    provider_series_id: null, platform: null, provider_calendar_id: null,
  };
}

/** A bot scheduled for `event` the way POST /calendar/schedule does with bot_config {}. */
function addBot(batch: Batch, event: ReturnType<typeof eventRow>, key: string, now: number): void {
  const botId = newId('bot');
  const eventId = event.id;
  const identity = event.meeting_identity;
  const joinAtMs = event.start_ms - JOIN_LEAD_MS;
  batch.bots.push({
    id: botId, user_id: event.user_id, deduplication_key: key, deduplication_key_hash: deduplicationKeyHash(key), is_live: 1, meeting_url: event.meeting_url, meeting_platform: 'zoom', meeting_identity: identity,
    status: 'Scheduled', bot_config: APPLIED_CONFIG,
    custom_attributes: JSON.stringify({ source: 'calendar_schedule_api', event_id: eventId, deduplication_key: key, event_summary: event.title }),
    join_at_ms: joinAtMs, is_join_time_pinned: 0, meeting_end_ms: event.end_ms, launched_at: null, source: 'calendar_schedule_api', created_at: now, updated_at: now,
    provider_name: null, provider_bot_id: null, idempotency_key_hash: null, data_deleted_at: null,
  });
  batch.bot_events.push({ bot_id: botId, user_id: event.user_id, event_id: eventId, occurrence_key: '', start_ms: event.start_ms, end_ms: event.end_ms, is_live: 1, created_at: now, updated_at: now });
  batch.schedules.push({
    id: newId('sch'), bot_id: botId, user_id: event.user_id, schedule_group: 'zoom', due_at_ms: joinAtMs, state: 'pending', attempts: 0,
    lease_owner: null, lease_until_ms: null, idempotency_key: `launch-${botId}`, status_token: `bst_${randomToken(32)}`, last_error: null, created_at: now, updated_at: now,
  });
  batch.bot_decisions.push({
    bot_id: botId, at_ms: now, kind: 'scheduled', reason: `Scheduled for event ${eventId} (${identity}); joins ${Math.round(JOIN_LEAD_MS / 1000)} s before the start`,
    details: JSON.stringify({ event_id: eventId, join_at: formatInstant(joinAtMs), meeting_identity: identity }),
  });
  batch.bot_status_changes.push({ bot_id: botId, at_ms: now, status: 'Scheduled', reason: 'Scheduled through the API' });
}

/**
 * What a pg-boss or BullMQ job carries so that its handler can build the same launch request
 * Rollcall builds (buildLaunchRequest): the columns that function reads, taken from rows generated
 * exactly as the seeder generates them for Rollcall's own bots.
 */
export interface LaunchJob {
  schedule: Pick<ScheduleRow, 'idempotency_key' | 'status_token'>;
  bot: Pick<BotRow, 'id' | 'meeting_url' | 'meeting_platform' | 'bot_config' | 'join_at_ms'>;
  links: Pick<BotEventRow, 'event_id' | 'occurrence_key' | 'start_ms' | 'end_ms'>[];
}

/** The job data for bot `index`, due to join at `joinAtMs`. */
export function launchJob(userId: string, index: number, joinAtMs: number): LaunchJob {
  const batch = emptyBatch();
  const now = Date.now();
  addBot(batch, eventRow(userId, index, joinAtMs + JOIN_LEAD_MS, now), `k${index}`, now);
  const bot = batch.bots[0]!;
  const schedule = batch.schedules[0]!;
  const link = batch.bot_events[0]!;
  return {
    schedule: { idempotency_key: schedule.idempotency_key as string, status_token: schedule.status_token as string },
    bot: { id: bot.id as string, meeting_url: bot.meeting_url as string, meeting_platform: bot.meeting_platform as string, bot_config: bot.bot_config as string, join_at_ms: bot.join_at_ms as number },
    links: [{ event_id: link.event_id as string, occurrence_key: link.occurrence_key as string, start_ms: link.start_ms as number, end_ms: link.end_ms as number }],
  };
}

/** Writes batches of rows with one engine-specific bulk statement per table. */
export interface BulkWriter {
  write(batch: Batch): Promise<void>;
  close(): Promise<void>;
}

export function openBulkWriter(engine: Engine, db: BenchDatabase): BulkWriter {
  return engine === 'sqlite' ? sqliteWriter(db.location) : postgresWriter(db.url);
}

function sqliteWriter(file: string): BulkWriter {
  const raw = new DatabaseSync(file);
  raw.exec('PRAGMA journal_mode = WAL');
  // Durability of the load itself does not matter: the file ends up the same.
  raw.exec('PRAGMA synchronous = OFF');
  // Random ids land all over every index: a big page cache keeps the load from re-reading pages.
  raw.exec('PRAGMA cache_size = -1048576');
  raw.exec('PRAGMA busy_timeout = 5000');
  const statements = new Map(Object.values(TABLES).map((t) => [
    t.name,
    raw.prepare(`insert into ${t.name} (${t.columns.map((c) => c[0]).join(', ')}) values (${t.columns.map(() => '?').join(', ')})`),
  ]));
  return {
    async write(batch) {
      raw.exec('BEGIN');
      try {
        for (const [table, rows] of Object.entries(batch) as [string, Row[]][]) {
          const statement = statements.get(table)!;
          const columns = TABLES[table]!.columns;
          for (const row of rows) statement.run(...columns.map(([c]) => row[c] ?? null));
        }
        raw.exec('COMMIT');
      } catch (error) {
        raw.exec('ROLLBACK');
        throw error;
      }
    },
    async close() {
      raw.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      raw.close();
    },
  };
}

function postgresWriter(url: string): BulkWriter {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  return {
    async write(batch) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        for (const [table, rows] of Object.entries(batch) as [string, Row[]][]) {
          if (rows.length === 0) continue;
          const columns = TABLES[table]!.columns;
          // unnest() of one array per column: one round trip for thousands of rows.
          const text = `insert into ${table} (${columns.map((c) => c[0]).join(', ')}) select * from unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})`;
          await client.query(text, columns.map(([c]) => rows.map((r) => r[c] ?? null)));
        }
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      const client = await pool.connect();
      try {
        // A freshly loaded table has no statistics yet; autovacuum would gather them soon after a
        // real backfill, so the measurement starts from there.
        await client.query('analyze');
      } finally {
        client.release();
      }
      await pool.end();
    },
  };
}

export interface SeedOptions {
  userId: string;
  /** Bots (each with its event, link, schedule and logs). */
  bots: number;
  /** Extra events with no bot, for later schedule requests; their ids are returned. */
  spareEvents?: number;
  /** Start of the meeting behind bot i. */
  startMsOf: (i: number) => number;
  batchSize?: number;
  /** Batches written at once (PostgreSQL only; SQLite has one writer). */
  parallel?: number;
  onProgress?: (done: number) => void;
}

/** Seeds bots and spare events; answers the spare event ids and the bot ids. */
export async function seed(db: BenchDatabase, options: SeedOptions): Promise<{ spareEventIds: string[]; botIds: string[]; ms: number }> {
  const started = performance.now();
  const writer = openBulkWriter(db.engine, db);
  const batchSize = options.batchSize ?? 5000;
  const now = Date.now();
  const botIds: string[] = [];
  const spareEventIds: string[] = [];
  const spare = options.spareEvents ?? 0;
  const total = options.bots + spare;
  const parallel = db.engine === 'postgres' ? (options.parallel ?? 2) : 1;
  const inFlight = new Set<Promise<void>>();
  try {
    for (let from = 0; from < total; from += batchSize) {
      const batch = emptyBatch();
      for (let i = from; i < Math.min(total, from + batchSize); i++) {
        const event = eventRow(options.userId, i, options.startMsOf(i), now);
        batch.events.push(event);
        if (i < options.bots) {
          addBot(batch, event, `k${i}`, now);
          botIds.push(batch.bots.at(-1)!.id as string);
        } else {
          spareEventIds.push(event.id);
        }
      }
      const write = writer.write(batch).finally(() => inFlight.delete(write));
      inFlight.add(write);
      if (inFlight.size >= parallel) await Promise.race(inFlight);
      options.onProgress?.(Math.min(total, from + batchSize));
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.allSettled(inFlight);
    await writer.close();
  }
  return { spareEventIds, botIds, ms: performance.now() - started };
}

/** Bulk-inserts events only (the schedule endpoint's load needs one fresh event per request). */
export async function seedEvents(db: BenchDatabase, userId: string, count: number, startMsOf: (i: number) => number): Promise<string[]> {
  const { spareEventIds } = await seed(db, { userId, bots: 0, spareEvents: count, startMsOf });
  return spareEventIds;
}

/**
 * Schedules one bot through the real service and compares every row it wrote with the rows the
 * generator makes for the same kind of event. Answers the differences (empty when the same).
 */
export async function checkSeedShape(db: BenchDatabase, userId: string): Promise<string[]> {
  const database = await db.open();
  const rollcall = await createRollcall(parseConfig({ LOG_LEVEL: 'silent', DATABASE_URL: db.url, RATE_LIMIT_PER_MINUTE: '0' }), { database, logger: createLogger('silent'), collectDefaultMetrics: false });
  const problems: string[] = [];
  try {
    const start = Date.now() + 7 * 86_400_000;
    const event = await rollcall.events.create(userId, { title: 'Bench meeting 0', start_time: new Date(start).toISOString(), end_time: new Date(start + MEETING_MS).toISOString(), meeting_url: 'https://zoom.us/j/90000000000' });
    const scheduled = await rollcall.scheduling.schedule(userId, event.id, { deduplication_key: 'shape-check', bot_config: {} });
    const botId = scheduled.bot_id!;
    const real: Record<string, Row[]> = {
      events: await database.db.selectFrom('events').selectAll().where('id', '=', event.id).execute() as unknown as Row[],
      bots: await database.db.selectFrom('bots').selectAll().where('id', '=', botId).execute() as unknown as Row[],
      bot_events: await database.db.selectFrom('bot_events').selectAll().where('bot_id', '=', botId).execute() as unknown as Row[],
      schedules: await database.db.selectFrom('schedules').selectAll().where('bot_id', '=', botId).execute() as unknown as Row[],
      bot_decisions: await database.db.selectFrom('bot_decisions').selectAll().where('bot_id', '=', botId).execute() as unknown as Row[],
      bot_status_changes: await database.db.selectFrom('bot_status_changes').selectAll().where('bot_id', '=', botId).execute() as unknown as Row[],
      webhook_deliveries: await database.db.selectFrom('webhook_deliveries').selectAll().where('bot_id', '=', botId).execute() as unknown as Row[],
    };
    const synthetic = emptyBatch();
    const synthEvent = eventRow(userId, 0, start, Date.now());
    synthetic.events.push(synthEvent);
    addBot(synthetic, synthEvent, 'shape-check', Date.now());
    if (parseMeetingLink(synthEvent.meeting_url)?.identity !== synthEvent.meeting_identity) problems.push('meeting identity differs from parseMeetingLink');
    for (const [table, rows] of Object.entries(real)) {
      const mine = (synthetic as unknown as Record<string, Row[] | undefined>)[table] ?? [];
      if (rows.length !== mine.length) {
        problems.push(`${table}: the service wrote ${rows.length} row(s), the seeder ${mine.length}`);
        continue;
      }
      for (const [i, row] of rows.entries()) problems.push(...compareRows(table, row, mine[i]!));
    }
  } finally {
    await rollcall.close();
  }
  return problems;
}

const VARYING = new Set(['id', 'user_id', 'bot_id', 'event_id', 'created_at', 'updated_at', 'at_ms', 'idempotency_key', 'status_token', 'deduplication_key']);

function compareRows(table: string, real: Row, mine: Row): string[] {
  const problems: string[] = [];
  const spec = TABLES[table];
  const realColumns = Object.keys(real).filter((c) => !(c === 'id' && !spec?.columns.some(([n]) => n === 'id')));
  for (const column of realColumns) {
    if (!(column in mine)) {
      problems.push(`${table}.${column}: the service writes it, the seeder does not`);
      continue;
    }
    const a = real[column];
    const b = mine[column];
    if ((a === null) !== (b === null) || typeof a !== typeof b) {
      problems.push(`${table}.${column}: service ${JSON.stringify(a)} vs seeder ${JSON.stringify(b)}`);
      continue;
    }
    if (VARYING.has(column) || typeof a !== 'string') continue;
    if (a.startsWith('{')) {
      const keysA = Object.keys(JSON.parse(a) as object).sort().join(',');
      const keysB = Object.keys(JSON.parse(b as string) as object).sort().join(',');
      if (keysA !== keysB) problems.push(`${table}.${column}: JSON keys ${keysA} vs ${keysB}`);
    } else if (!/(evt|bot|sch)_/.test(a) && a !== b) {
      problems.push(`${table}.${column}: service "${a}" vs seeder "${b}"`);
    }
  }
  return problems;
}
