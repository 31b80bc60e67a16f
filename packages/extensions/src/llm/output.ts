// Finding the JSON array of decisions in what a model wrote: inside a ```json fence or not,
// with or without prose around it.

/** Longest model output examined, in characters (longer output is unparseable). */
export const MAX_MODEL_OUTPUT_CHARS = 200_000;

// The lookahead makes the language name maximal and the info string cannot hold a backtick
// (as in CommonMark): without both, a long fence line without a newline backtracks
// quadratically (200,000 characters took minutes).
const FENCE = /```[ \t]*([A-Za-z0-9_-]*)(?![A-Za-z0-9_-])[^\n`]*\n([\s\S]*?)```/g;

/**
 * Deepest nesting of arrays and objects accepted in model output (a decision and its payload
 * fit well within it). Deeper text is not parsed: validating it recursively (zod's `z.json()`)
 * overflowed the stack at 10,000 levels.
 */
export const MAX_MODEL_OUTPUT_DEPTH = 64;

/**
 * Whether JSON `text` nests arrays/objects at most `maxDepth` deep: one linear pass, brackets
 * inside strings skipped, nothing allocated. Run before `JSON.parse`, so a hostile depth costs
 * a scan, never a recursion.
 */
export function jsonDepthWithin(text: string, maxDepth: number = MAX_MODEL_OUTPUT_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return false;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return true;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  if (!jsonDepthWithin(text)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

// The first balanced [...] or {...} starting at `start`, skipping brackets inside strings.
function balancedFrom(text: string, start: number): string | undefined {
  const open = text[start];
  const close = open === '[' ? ']' : '}';
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === open) depth++;
    else if (c === close && --depth === 0) return text.slice(start, i + 1);
  }
  return undefined;
}

function asList(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value as unknown[];
  if (value && typeof value === 'object') {
    const d = (value as { decisions?: unknown }).decisions;
    if (Array.isArray(d)) return d as unknown[];
    if (typeof (value as { type?: unknown }).type === 'string') return [value];
  }
  return undefined;
}

/**
 * Extracts the list of proposed decisions from model output. Accepts, in this order: a fenced
 * code block (```json or plain ```) holding a JSON array; the whole text as JSON; the first
 * JSON array (or object) embedded in prose. An object `{ "decisions": [...] }` or a single
 * decision object counts as a list. Returns `undefined` when no list can be found, when the
 * text is longer than `MAX_MODEL_OUTPUT_CHARS`, or when a candidate nests deeper than
 * `MAX_MODEL_OUTPUT_DEPTH` (checked by a scan before parsing). Never throws.
 */
export function extractDecisionList(text: string): unknown[] | undefined {
  if (typeof text !== 'string' || text.length > MAX_MODEL_OUTPUT_CHARS) return undefined;
  for (const m of text.matchAll(FENCE)) {
    const lang = m[1]!.toLowerCase();
    if (lang !== '' && lang !== 'json' && lang !== 'jsonc' && lang !== 'javascript') continue;
    const r = tryParse(m[2]!.trim());
    const list = r.ok ? asList(r.value) : undefined;
    if (list) return list;
  }
  const whole = tryParse(text.trim());
  if (whole.ok) return asList(whole.value);
  // Prose around the JSON: try each opening bracket until one parses (bounded attempts).
  let attempts = 0;
  for (let i = 0; i < text.length && attempts < 64; i++) {
    if (text[i] !== '[' && text[i] !== '{') continue;
    attempts++;
    const candidate = balancedFrom(text, i);
    if (candidate === undefined) continue;
    const r = tryParse(candidate);
    const list = r.ok ? asList(r.value) : undefined;
    // In prose, "[1]" or "{}" is likely not the answer: want objects (or an explicit []).
    if (list && (list.length === 0 || list.some((x) => x !== null && typeof x === 'object'))) return list;
    if (r.ok) i += candidate.length - 1;
  }
  return undefined;
}
