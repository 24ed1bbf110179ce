// Encryption at rest for credentials (AES-256-GCM). The key comes from CREDENTIALS_ENCRYPTION_KEY
// (32 bytes, base64 or hex); stored values look like "v1:<iv>:<tag>:<ciphertext>" (base64url).
// Keys being rotated out (CREDENTIALS_ENCRYPTION_PREVIOUS_KEYS) still open what they sealed; only
// the current key seals. GCM's tag authenticates, so a value tried under the wrong key is refused,
// never misread: the box tries the current key, then the previous ones in order.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export class SecretBox {
  readonly #key: Buffer;
  readonly #previousKeys: readonly Buffer[];

  constructor(key: Buffer, previousKeys: readonly Buffer[] = []) {
    if ([key, ...previousKeys].some((k) => k.length !== 32)) throw new Error('The credentials encryption key must be 32 bytes');
    this.#key = key;
    this.#previousKeys = previousKeys;
  }

  /** The box for the configured keys; null when no key is configured. */
  static fromKeys(key: Buffer | null, previousKeys: readonly Buffer[]): SecretBox | null {
    return key ? new SecretBox(key, previousKeys) : null;
  }

  /** Parses CREDENTIALS_ENCRYPTION_KEY; returns null for a value that is not 32 bytes. */
  static parseKey(text: string): Buffer | null {
    const trimmed = text.trim();
    if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
    const decoded = Buffer.from(trimmed, 'base64');
    return decoded.length === 32 ? decoded : null;
  }

  get hasPreviousKeys(): boolean {
    return this.#previousKeys.length > 0;
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join(':');
  }

  /** Opens a value sealed with the current key or a previous one; throws when none opens it. */
  decrypt(sealed: string): string {
    const opened = this.#open(sealed);
    if (opened === null) throw new Error('The value cannot be opened with the configured keys');
    return opened.plaintext;
  }

  /**
   * For a value sealed with a previous key, the same plaintext sealed with the current key; null
   * for a value the current key already opens. Throws when no configured key opens it.
   */
  resealed(sealed: string): string | null {
    const opened = this.#open(sealed);
    if (opened === null) throw new Error('The value cannot be opened with the configured keys');
    return opened.isCurrent ? null : this.encrypt(opened.plaintext);
  }

  #open(sealed: string): { plaintext: string; isCurrent: boolean } | null {
    const [version, iv, tag, ciphertext] = sealed.split(':');
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw new Error('Not a value sealed by this service');
    for (const [index, key] of [this.#key, ...this.#previousKeys].entries()) {
      const plaintext = openWith(key, iv, tag, ciphertext);
      if (plaintext !== null) return { plaintext, isCurrent: index === 0 };
    }
    return null;
  }

  static isSealed(value: string): boolean {
    return value.startsWith(`${VERSION}:`) && value.split(':').length === 4;
  }
}

/** The plaintext, or null when the tag does not match (another key, or a tampered value). */
function openWith(key: Buffer, iv: string, tag: string, ciphertext: string): string | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
