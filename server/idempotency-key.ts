/** The longest key accepted; UUIDs, the usual choice, are 36 characters. */
export const MAX_KEY_LENGTH = 255;

/** Why a header value is not a usable key. */
export class InvalidKeyError extends Error {}

/**
 * Reads an Idempotency-Key header value. The IETF httpapi draft makes it a Structured
 * Field string ("…", with \" and \\ escapes); a bare value, as many clients send, is
 * taken as it is, unless it has a comma or a space: that is several keys (two header
 * lines reach the server joined with ", "), and a request has one.
 */
export function parseIdempotencyKey(value: string): string {
  const raw = value.trim();
  let key = raw;
  if (raw.startsWith('"')) {
    key = '';
    let closed = false;
    for (let i = 1; i < raw.length; i++) {
      const char = raw[i];
      if (closed) throw new InvalidKeyError('there is text after the closing quote');
      if (char === '"') closed = true;
      else if (char === '\\') {
        const next = raw[++i];
        if (next !== '"' && next !== '\\') throw new InvalidKeyError('a backslash may only escape " or \\');
        key += next;
      } else key += char;
    }
    if (!closed) throw new InvalidKeyError('the quoted string is not closed');
  } else if (/[,\s]/.test(raw)) {
    throw new InvalidKeyError('a key without quotes has a comma or a space: it reads as several keys, and a request has one');
  }
  if (key.length === 0) throw new InvalidKeyError('it is empty');
  if (key.length > MAX_KEY_LENGTH) throw new InvalidKeyError(`it is longer than ${MAX_KEY_LENGTH} characters`);
  if (!/^[\x20-\x7e]+$/.test(key)) throw new InvalidKeyError('it has characters outside printable ASCII');
  return key;
}
