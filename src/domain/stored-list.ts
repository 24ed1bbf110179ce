// Lists a row keeps as JSON text (a calendar's missed ids, its held instances): read so that text
// that is no JSON array, as an older or hand-edited row may hold, reads as an empty list rather
// than failing the sync that reads it. Each caller then keeps the entries of its own shape.

/** The entries of a stored JSON array; none for null, empty text, or anything else. */
export function storedListEntries(text: string | null | undefined): unknown[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}
