// JSON exactly as Python's `json.dumps` (default arguments) writes it, and a parser that keeps
// what `JSON.parse` loses (integers beyond 2^53, integer-valued floats such as `2.0`). The
// reference encrypts `json.dumps(payload)`, so this is what makes our ciphertexts readable there.
import { Float64, isFloat64, ValidationError, pythonFloatRepr, type WireValue } from '@converge/core';

/** Deepest nesting `pythonJsonDumps` / `pythonJsonLoads` accept (Python's own limit is ~1000). */
export const MAX_JSON_DEPTH = 512;

function escapeString(s: string): string {
  // ensure_ascii=True: everything outside printable ASCII (0x20..0x7e) becomes \uXXXX
  // (lowercase hex, one escape per UTF-16 code unit, as Python writes surrogate pairs).
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c <= 0x7e) out += s[i];
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  return out + '"';
}

function floatJson(x: number): string {
  // json.dumps writes non-finite floats as NaN / Infinity / -Infinity (allow_nan=True).
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pythonFloatRepr(x);
}

function dump(v: unknown, depth: number, path: string): string {
  if (depth > MAX_JSON_DEPTH) throw new ValidationError(`payload nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return escapeString(v);
  // Same rule as the msgpack codec: a safe integer is an int, any other number a float.
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v === 0 ? 0 : v) : floatJson(v);
  if (typeof v === 'bigint') return v.toString();
  if (isFloat64(v)) return floatJson(v.value);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + v.map((x, i) => dump(x, depth + 1, `${path}[${i}]`)).join(', ') + ']';
  }
  if (v instanceof Map) {
    const parts: string[] = [];
    for (const [k, x] of v) {
      if (typeof k !== 'string') throw new ValidationError(`${path}: map keys must be strings`);
      parts.push(escapeString(k) + ': ' + dump(x, depth + 1, `${path}.${k}`));
    }
    return '{' + parts.join(', ') + '}';
  }
  if (v instanceof Uint8Array) throw new ValidationError(`${path}: bytes are not JSON-serializable (Python refuses them too)`);
  const proto: unknown = typeof v === 'object' ? Object.getPrototypeOf(v) : undefined;
  if (proto === Object.prototype || proto === null) {
    const parts = Object.entries(v as Record<string, unknown>).map(([k, x]) => escapeString(k) + ': ' + dump(x, depth + 1, `${path}.${k}`));
    return '{' + parts.join(', ') + '}';
  }
  throw new ValidationError(
    `${path}: a value of type ${typeof v === 'object' ? ((v as object).constructor?.name ?? 'object') : typeof v} is not JSON-serializable`,
  );
}

/**
 * Serializes plain data as Python's `json.dumps(value)` does with default arguments: `", "` and
 * `": "` separators, non-ASCII escaped as `\uXXXX`, floats as Python `repr` (`Float64` markers and
 * non-integral numbers), safe integers and `bigint`s as digits, non-finite floats as `NaN` /
 * `Infinity`, maps in insertion order (`Map` where a plain object would reorder keys).
 * Throws `ValidationError` for bytes, `undefined`, functions, class instances or nesting over
 * {@link MAX_JSON_DEPTH}.
 */
export function pythonJsonDumps(value: WireValue): string {
  return dump(value, 0, '$');
}

const INDEX_LIKE = /^(0|[1-9][0-9]*)$/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/**
 * Parses JSON as Python's `json.loads` reads it, into Converge plain data: integers stay exact
 * (`bigint` beyond 2^53), integer-valued floats (`2.0`, `1e16`) become `Float64` markers so
 * that re-encoding gives the same bytes, other floats plain numbers; `NaN`, `Infinity` and
 * `-Infinity` are accepted; objects whose keys a JS object would reorder become `Map`s; a
 * repeated key keeps its first position and last value (as a Python dict). Throws
 * `ValidationError` on malformed input or nesting over {@link MAX_JSON_DEPTH}.
 */
export function pythonJsonLoads(text: string): WireValue {
  return new PythonJsonParser(text).document();
}

/** The single-character escapes of a JSON string (`\u` is handled apart). */
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** The words `json.loads` reads as values, `-Infinity` included. */
const WORDS = [
  ['true', true],
  ['false', false],
  ['null', null],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
] as const;

/** A recursive-descent reader of one JSON document, `i` its offset. */
class PythonJsonParser {
  #i = 0;
  constructor(private readonly text: string) {}

  /** The whole text as one value (nothing but whitespace may follow it). */
  document(): WireValue {
    const result = this.#value(0);
    this.#ws();
    if (this.#i !== this.text.length) this.#fail('extra data after the value');
    return result;
  }

  #fail(what: string): never {
    throw new ValidationError(`invalid JSON at offset ${this.#i}: ${what}`);
  }

  #ws(): void {
    const text = this.text;
    while (this.#i < text.length) {
      const c = text.charCodeAt(this.#i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.#i++;
      else break;
    }
  }

  #value(depth: number): WireValue {
    if (depth > MAX_JSON_DEPTH) this.#fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.#ws();
    const c = this.text[this.#i];
    if (c === '{') return this.#object(depth);
    if (c === '[') return this.#array(depth);
    if (c === '"') return this.#string();
    for (const [word, v] of WORDS) {
      if (this.text.startsWith(word, this.#i)) {
        this.#i += word.length;
        return v;
      }
    }
    return this.#number();
  }

  /** An object; a `Map` when a key is index-like (a JS object would move it to the front). */
  #object(depth: number): WireValue {
    const text = this.text;
    this.#i++;
    const entries = new Map<string, WireValue>();
    this.#ws();
    if (text[this.#i] === '}') {
      this.#i++;
      return {};
    }
    for (;;) {
      this.#ws();
      if (text[this.#i] !== '"') this.#fail('expected a string key');
      const k = this.#string();
      this.#ws();
      if (text[this.#i++] !== ':') this.#fail("expected ':'");
      entries.set(k, this.#value(depth + 1));
      this.#ws();
      const sep = text[this.#i++];
      if (sep === '}') break;
      if (sep !== ',') this.#fail("expected ',' or '}'");
    }
    const keys = [...entries.keys()];
    if (keys.some((k) => INDEX_LIKE.test(k))) return entries;
    return Object.fromEntries(entries) as { [key: string]: WireValue };
  }

  #array(depth: number): WireValue[] {
    const text = this.text;
    this.#i++;
    const arr: WireValue[] = [];
    this.#ws();
    if (text[this.#i] === ']') {
      this.#i++;
      return arr;
    }
    for (;;) {
      arr.push(this.#value(depth + 1));
      this.#ws();
      const sep = text[this.#i++];
      if (sep === ']') return arr;
      if (sep !== ',') this.#fail("expected ',' or ']'");
    }
  }

  #string(): string {
    const text = this.text;
    this.#i++; // opening quote
    let out = '';
    let start = this.#i;
    for (;;) {
      if (this.#i >= text.length) this.#fail('unterminated string');
      const c = text.charCodeAt(this.#i);
      if (c === 0x22) {
        out += text.slice(start, this.#i++);
        return out;
      }
      if (c < 0x20) this.#fail('control character in string');
      if (c !== 0x5c) {
        this.#i++;
        continue;
      }
      out += text.slice(start, this.#i) + this.#escape();
      start = this.#i;
    }
  }

  /** The character of the escape at the offset (a backslash), past which it moves. */
  #escape(): string {
    const e = this.text[this.#i + 1];
    this.#i += 2;
    if (e === 'u') {
      const hex = this.text.slice(this.#i, this.#i + 4);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.#fail('bad \\u escape');
      this.#i += 4;
      return String.fromCharCode(parseInt(hex, 16));
    }
    const ch = e === undefined ? undefined : ESCAPES[e];
    return ch ?? this.#fail('bad escape');
  }

  /** An integer (exact: `bigint` past 2^53) or a float (`Float64` when integer-valued or -0). */
  #number(): WireValue {
    NUMBER.lastIndex = this.#i;
    const m = NUMBER.exec(this.text);
    if (!m) return this.#fail('unexpected character');
    this.#i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    const f = Number(m[0]);
    return Number.isInteger(f) || Object.is(f, -0) ? new Float64(f) : f;
  }
}
