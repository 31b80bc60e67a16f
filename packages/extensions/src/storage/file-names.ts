/** File names of FileStore records: a reversible, traversal-proof encoding of store keys. */
// File names use only [a-z0-9_-] literally and `%xx` (lower-case hex of each UTF-8 byte) for
// everything else, upper-case letters included: the name can never be `.`/`..`, never holds a
// separator, never starts with a dot (reserved for temp files) and stays unique on
// case-insensitive file systems. The mapping is a bijection, so `list` decodes names back.
const LITERAL = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789_-') LITERAL[c.charCodeAt(0)] = 1;
const HEX = '0123456789abcdef';

/** Encodes a (validated) key as a file-name stem: `[a-z0-9_-]` kept, every other byte `%xx`. */
export function encodeKeyName(key: string): string {
  let out = '';
  let plain = true;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 128 || LITERAL[c] !== 1) {
      plain = false;
      break;
    }
  }
  if (plain) return key;
  for (const b of Buffer.from(key, 'utf8')) {
    out += b < 128 && LITERAL[b] === 1 ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

const NAME = /^(?:[a-z0-9_-]|%[0-9a-f]{2})+$/;

/**
 * Decodes a file-name stem made by `encodeKeyName`; returns `undefined` for any name that
 * `encodeKeyName` could not have produced (a foreign file), so such files are ignored.
 */
export function decodeKeyName(name: string): string | undefined {
  if (!NAME.test(name)) return undefined;
  if (!name.includes('%')) return name;
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '%') {
      bytes.push(parseInt(name.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(name.charCodeAt(i));
  }
  const key = Buffer.from(bytes).toString('utf8');
  // Invalid UTF-8 decodes to U+FFFD; only the canonical encoding of a key counts.
  return encodeKeyName(key) === name ? key : undefined;
}
