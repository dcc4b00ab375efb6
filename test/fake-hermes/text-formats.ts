/**
 * The shapes in which the real upstream sometimes sends assistant text: plain, a JSON content-block
 * array, the same array as a Python literal (single quotes, True/None), or the JSON array serialised
 * a second time (a JSON string literal whose value is the array).
 */
export const TEXT_FORMATS = ['text', 'json-array', 'python-array', 'double-json-array'] as const;
export type TextFormat = (typeof TEXT_FORMATS)[number];

export function isTextFormat(value: unknown): value is TextFormat {
  return typeof value === 'string' && (TEXT_FORMATS as readonly string[]).includes(value);
}

export function formatText(text: string, format: TextFormat): string {
  switch (format) {
    case 'text':
      return text;
    case 'json-array':
      return JSON.stringify([{ type: 'text', text }]);
    case 'python-array':
      return pyRepr([{ type: 'text', text }]);
    case 'double-json-array':
      return JSON.stringify(JSON.stringify([{ type: 'text', text }]));
  }
}

/**
 * The content-block array of the "Python-literal delta" scenario, e.g. for `hi`:
 * `[{'type': 'text', 'text': 'hi', 'cached': True, 'x': None}]`.
 */
export function pythonContentArray(text: string): string {
  return pyRepr([{ type: 'text', text, cached: true, x: null }]);
}

/** Python 3 `repr()` of JSON-like data (str, int/float, bool, None, list, dict). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'None';
  if (typeof value === 'string') return pyStr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${pyStr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  }
  return typeof value === 'bigint' ? value.toString() : 'None';
}

/** Python's string repr: single quotes unless the text holds `'` and no `"`. */
function pyStr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}
