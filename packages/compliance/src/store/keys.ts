/**
 * Keys that every store must accept and keep exactly (separators, dots, percent signs,
 * unicode, spaces, path-like strings) — a file- or URL-based store must not interpret them.
 */
export function validKeys(): string[] {
  return [
    'simple',
    'with space',
    'a/b/c',
    'ns:sub:key',
    '../escape',
    '../../etc/passwd',
    '/absolute/path',
    'C:\\windows\\path',
    '.',
    '..',
    '.hidden',
    '.tmp-not-a-temp-file',
    'x.rec',
    'x.lck',
    '%2e%2e',
    '%',
    '100%',
    'ключ',
    '日本語/キー',
    '😀',
    'tab\there',
    'new\nline',
    'trailing ',
    '*?<>|"',
    'k'.repeat(100),
  ];
}

/** Keys every store must refuse with `InvalidKeyError`, with a label for messages. */
export function invalidKeys(): Array<[string, string]> {
  return [
    ['empty', ''],
    ['NUL inside', 'a\u0000b'],
    ['only NUL', '\u0000'],
    ['lone high surrogate', 'a\uD800'],
    ['lone low surrogate', '\uDC00b'],
    ['100,000 characters', 'x'.repeat(100_000)],
    ['a number', 42 as unknown as string],
    ['undefined', undefined as unknown as string],
    ['null', null as unknown as string],
  ];
}
