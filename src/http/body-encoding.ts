// JSON bodies are UTF-8 (RFC 8259 section 8.1). Read as text regardless, a body in another
// encoding (a title typed in Latin-1) has each byte UTF-8 cannot read replaced by U+FFFD, and the
// damaged text would be stored as if the client had sent it. Such a body is refused instead, and
// the refusal names the field that holds the first bad byte.
import { isUtf8 } from 'node:buffer';

/** Where the first character that is not UTF-8 starts in `bytes`; -1 when all of it is UTF-8. */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  // Read as a stream, a prefix that ends inside a character is not (yet) an error; one that holds
  // a byte no UTF-8 text can go on with is, and so is every longer prefix. The shortest failing
  // prefix is found by halving; a body whose only fault is an unfinished last character has none.
  let failing = bytes.length;
  if (readsAsStream(bytes)) {
    failing = bytes.length + 1;
  } else {
    let passing = 0;
    while (failing - passing > 1) {
      const middle = (passing + failing) >>> 1;
      if (readsAsStream(bytes.subarray(0, middle))) passing = middle;
      else failing = middle;
    }
  }
  // The faulty character begins at most three bytes before the byte that broke it: at the end of
  // the longest prefix that is whole UTF-8.
  for (let start = failing - 1; start >= Math.max(0, failing - 4); start--) {
    if (isUtf8(bytes.subarray(0, start))) return start;
  }
  return failing - 1;
}

function readsAsStream(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
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
