import { childPath, fieldAt, type Shape } from './shape';

/**
 * The shape of a (dereferenced) AsyncAPI payload schema, in the same terms as the TypeScript
 * side: `allOf` is an intersection (a field required by any part is required), `oneOf`/`anyOf`
 * a union (a field optional in any branch is optional), `integer` is a `number`, and `const` or
 * `enum` values are literals.
 */
type Schema = Record<string, unknown>;

export function schemaShape(schema: Schema): Shape {
  const shape: Shape = new Map();
  walk(schema, '', false, shape, 0);
  return shape;
}

function walk(schema: Schema, path: string, optional: boolean, shape: Shape, depth: number): void {
  if (depth > 12) throw new Error(`${path} nests too deep (a recursive schema?)`);
  const info = fieldAt(shape, path);
  info.optional ||= optional;
  const allOf = schemas(schema.allOf);
  if (allOf.length > 0) {
    const { allOf: _parts, ...rest } = schema;
    const parts = hasStructure(rest) ? [...allOf, rest] : allOf;
    mergeIntersection(
      shape,
      path,
      parts.map((part) => {
        const partShape: Shape = new Map();
        walk(part, path, false, partShape, depth);
        return partShape;
      }),
    );
    return;
  }
  const union = [...schemas(schema.oneOf), ...schemas(schema.anyOf)];
  if (union.length > 0) {
    if (hasStructure(schema, ['oneOf', 'anyOf'])) {
      throw new Error(`${path || '(payload)'}: oneOf beside other structure is not supported`);
    }
    for (const member of union) walk(member, path, false, shape, depth);
    return;
  }
  const literals = literalsOf(schema);
  if (literals) {
    literals.forEach((literal) => info.kinds.add(literal));
    return;
  }
  const types = typesOf(schema);
  if (types.length === 0) info.kinds.add('any');
  for (const type of types) {
    if (type === 'object') walkObject(schema, path, shape, depth);
    else if (type === 'array') {
      info.kinds.add('array');
      if (isSchema(schema.items)) walk(schema.items, `${path}[]`, false, shape, depth + 1);
    } else if (type === 'boolean') {
      info.kinds.add('true').add('false');
    } else {
      info.kinds.add(type === 'integer' ? 'number' : type);
    }
  }
}

function walkObject(schema: Schema, path: string, shape: Shape, depth: number): void {
  const info = fieldAt(shape, path);
  info.kinds.add('object');
  const extra = schema.additionalProperties;
  if (extra === true || isSchema(extra)) info.open = true;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const properties = isSchema(schema.properties) ? schema.properties : {};
  for (const [name, property] of Object.entries(properties)) {
    if (!isSchema(property)) throw new Error(`${childPath(path, name)} is not a schema`);
    walk(property, childPath(path, name), !required.includes(name), shape, depth + 1);
  }
}

/**
 * The parts of an `allOf` describe one value: below it, a field is optional only if no part
 * requires it; the value's own optionality is its parent's business.
 */
function mergeIntersection(into: Shape, root: string, parts: Shape[]): void {
  const paths = new Set(parts.flatMap((part) => [...part.keys()]));
  for (const path of paths) {
    const present = parts.map((part) => part.get(path)).filter((info) => info !== undefined);
    const info = fieldAt(into, path);
    if (path !== root) {
      const optional = present.every((part) => part.optional);
      // Already seen in another branch of a union: optional there stays optional.
      info.optional = info.kinds.size > 0 ? info.optional || optional : optional;
    }
    for (const part of present) {
      part.kinds.forEach((kind) => info.kinds.add(kind));
      info.open ||= part.open;
    }
  }
}

/** Whether a schema says more than annotations (`description`, `default`, …). */
function hasStructure(schema: Schema, besides: string[] = []): boolean {
  const annotations = new Set(['description', 'title', 'default', 'examples', ...besides]);
  return Object.keys(schema).some((key) => !annotations.has(key) && !key.startsWith('x-'));
}

function literalsOf(schema: Schema): string[] | undefined {
  const values = 'const' in schema ? [schema.const] : Array.isArray(schema.enum) ? schema.enum : [];
  if (values.length === 0) return undefined;
  return values.map((value: unknown) =>
    typeof value === 'string' ? JSON.stringify(value) : String(value),
  );
}

function typesOf(schema: Schema): string[] {
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type as string[];
  return isSchema(schema.properties) ? ['object'] : [];
}

function schemas(value: unknown): Schema[] {
  return Array.isArray(value) ? value.filter(isSchema) : [];
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
