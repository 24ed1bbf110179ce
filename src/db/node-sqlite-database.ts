// Adapts node:sqlite's DatabaseSync to the small interface Kysely's SqliteDialect drives.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

type Param = null | number | bigint | string | NodeJS.ArrayBufferView;

/**
 * Prepared statements are cached by SQL text: the same few queries run on every request and
 * preparing them again each time is a measurable share of the hot path.
 */
export class NodeSqliteDatabase implements SqliteDatabase {
  readonly raw: DatabaseSync;
  readonly #statements = new Map<string, { statement: StatementSync; reader: boolean }>();

  constructor(path: string) {
    this.raw = new DatabaseSync(path);
  }

  readonly #rollback: SqliteStatement = {
    reader: false,
    all: () => [],
    run: () => (this.raw.isTransaction ? this.raw.prepare('rollback').run() : { changes: 0, lastInsertRowid: 0 }),
    iterate: () => [][Symbol.iterator](),
  };

  close(): void {
    this.#statements.clear();
    this.raw.close();
  }

  prepare(sql: string): SqliteStatement {
    // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR). The
    // rollback the caller then sends would fail with "no transaction is active" and that error
    // would replace the real cause (a full disk) in the caller's hands and in the logs.
    if (sql === 'rollback') return this.#rollback;
    let entry = this.#statements.get(sql);
    if (entry === undefined) {
      const statement = this.raw.prepare(sql);
      entry = { statement, reader: statement.columns().length > 0 };
      if (this.#statements.size >= 500) this.#statements.clear();
      this.#statements.set(sql, entry);
    }
    const { statement, reader } = entry;
    return {
      reader,
      all: (parameters) => statement.all(...toParams(parameters)),
      run: (parameters) => statement.run(...toParams(parameters)),
      iterate: (parameters) => statement.iterate(...toParams(parameters)),
    };
  }
}

function toParams(parameters: ReadonlyArray<unknown>): Param[] {
  return parameters.map((value) => {
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value === undefined) return null;
    return value as Param;
  });
}
