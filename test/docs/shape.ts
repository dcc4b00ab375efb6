/**
 * A payload's shape as a flat list of field paths, so that a TypeScript type and a JSON Schema
 * can be compared with one `toEqual` whose diff names the field that differs. A path is
 * `field.sub` for object fields and `field[]` for array items; `''` is the payload itself.
 */

/** What one path can hold: `string`, `number`, `true`/`false`, `null`, `object`, `array`,
 * `any`, or a literal (`"queued"`, `-1`). */
export interface FieldInfo {
  kinds: Set<string>;
  optional: boolean;
  /** Other fields may be present (an index signature; `additionalProperties: true`). */
  open: boolean;
}

export type Shape = Map<string, FieldInfo>;

export function fieldAt(shape: Shape, path: string): FieldInfo {
  let info = shape.get(path);
  if (!info) {
    info = { kinds: new Set(), optional: false, open: false };
    shape.set(path, info);
  }
  return info;
}

export const childPath = (path: string, name: string): string => (path ? `${path}.${name}` : name);

/** A readable, sorted form for `toEqual`: `{ 'queue[].input': 'string' }`. */
export function describeShape(shape: Shape): Record<string, string> {
  const described: Record<string, string> = {};
  for (const path of [...shape.keys()].sort()) {
    const info = shape.get(path)!;
    const kinds = [...info.kinds].sort().join(' | ');
    described[path || '(payload)'] =
      `${kinds}${info.optional ? ' (optional)' : ''}${info.open ? ' (open)' : ''}`;
  }
  return described;
}
