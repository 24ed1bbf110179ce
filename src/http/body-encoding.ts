// JSON bodies are UTF-8 (RFC 8259 section 8.1). Read as text regardless, a body in another
// encoding (a title typed in Latin-1) has each byte UTF-8 cannot read replaced by U+FFFD, and the
// damaged text would be stored as if the client had sent it. Such a body is refused instead, and
// the refusal names the field that holds the first bad byte.
import { isUtf8 } from 'node:buffer';

/**
 * Where the first character that is not UTF-8 starts in `bytes`; -1 when all of it is UTF-8.
 * Linear in the body: a lossy read puts U+FFFD (EF BF BD) where each bad sequence was, so read and
 * written back the body matches its bytes up to the first of them (or a few bytes into it, when
 * the bad sequence itself begins EF or EF BF); the character starts at the end of the longest
 * whole-UTF-8 prefix at most three bytes before that.
 */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  const rewritten = Buffer.from(new TextDecoder('utf-8').decode(bytes), 'utf8');
  const differs = firstDifference(bytes, rewritten);
  for (let start = differs; start >= Math.max(0, differs - 3); start--) {
    if (isUtf8(bytes.subarray(0, start))) return start;
  }
  return differs;
}

/** The first index where `a` and `b` differ (the shorter one's length when one begins the other). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  // Whole blocks compared natively first, then bytes inside the first block that differs.
  const BLOCK = 4096;
  let at = 0;
  while (at + BLOCK <= length && Buffer.compare(a.subarray(at, at + BLOCK), b.subarray(at, at + BLOCK)) === 0) at += BLOCK;
  while (at < length && a[at] === b[at]) at++;
  return at;
}

/** Longest field name an answer repeats: a key can be as long as the body. */
const FIELD_NAME_LIMIT = 100;

/** `field` cut to FIELD_NAME_LIMIT characters, marked with an ellipsis where it was cut. */
export function boundFieldName(field: string): string {
  return field.length <= FIELD_NAME_LIMIT ? field : `${field.slice(0, FIELD_NAME_LIMIT)}…`;
}

/** A noncharacter: it marks the bad byte's place in the text, and no client has reason to send it. */
const MARK = '\uFDD0';

/**
 * The field (dotted path, `a.b.0`) whose key or text holds the byte at `offset`, or null when the
 * byte is outside every string (the body is then no JSON at all) or the body does not parse.
 */
export function fieldAtByte(bytes: Uint8Array, offset: number): string | null {
  const decoder = new TextDecoder('utf-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes.subarray(0, offset)) + MARK + decoder.decode(bytes.subarray(offset)));
  } catch {
    return null;
  }
  // Each node keeps a link to its parent, not its path: a 1 MiB body can nest 100,000 levels.
  type Node = { value: unknown; key: string; parent: Node | null };
  const pathOf = (node: Node, key?: string): string => {
    const path = key === undefined ? [] : [key];
    for (let n: Node | null = node; n !== null && n.parent !== null; n = n.parent) path.push(n.key);
    return path.reverse().join('.');
  };
  const stack: Node[] = [{ value: parsed, key: '', parent: null }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (typeof node.value === 'string') {
      if (node.value.includes(MARK)) return pathOf(node);
    } else if (node.value !== null && typeof node.value === 'object') {
      for (const [key, child] of Object.entries(node.value)) {
        // A key holding the byte is named as a lossy read shows it, U+FFFD where the byte was.
        if (key.includes(MARK)) return pathOf(node, key.replace(MARK, ''));
        stack.push({ value: child, key, parent: node });
      }
    }
  }
  return null;
}
