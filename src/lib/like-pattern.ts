/**
 * Text matched literally inside a SQL LIKE pattern written with `escape '\'`: the escape
 * character itself and both wildcards are escaped. The same on SQLite and PostgreSQL.
 */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
