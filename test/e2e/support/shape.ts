/**
 * A small runtime description of JSON shapes, with the TypeScript type each one stands for, so
 * that a test can state an interface once and check a response body against it. Objects are
 * exact: a missing field, a field of the wrong type and a field the interface does not have are
 * all reported, with their path.
 */

export type Shape =
  | { kind: 'string' }
  | { kind: 'number'; integer: boolean }
  | { kind: 'boolean' }
  | { kind: 'null' }
  | { kind: 'literal'; value: string | number | boolean }
  | { kind: 'array'; of: Shape }
  | { kind: 'record'; of: Shape }
  | { kind: 'object'; fields: Record<string, Field> }
  | { kind: 'union'; of: Shape[] };

export interface Field {
  shape: Shape;
  optional: boolean;
}

export const string = { kind: 'string' } as const;
export const number = { kind: 'number', integer: false } as const;
export const integer = { kind: 'number', integer: true } as const;
export const boolean = { kind: 'boolean' } as const;

export const literal = <V extends string | number | boolean>(value: V) =>
  ({ kind: 'literal', value }) as const;
export const arrayOf = <S extends Shape>(of: S) => ({ kind: 'array', of }) as const;
export const recordOf = <S extends Shape>(of: S) => ({ kind: 'record', of }) as const;
export const oneOf = <S extends Shape[]>(...of: S) => ({ kind: 'union', of }) as const;
export const nullable = <S extends Shape>(shape: S) => oneOf(shape, { kind: 'null' } as const);

/** A field that may be absent (`field?: T`). */
export const optional = <S extends Shape>(shape: S) => ({ shape, optional: true }) as const;

type FieldInput = Shape | { shape: Shape; optional: true };

export const object = <F extends Record<string, FieldInput>>(fields: F) =>
  ({
    kind: 'object',
    fields: Object.fromEntries(
      Object.entries(fields).map(([name, field]) => [
        name,
        'kind' in field ? { shape: field, optional: false } : field,
      ]),
    ),
    declared: fields,
  }) as { kind: 'object'; fields: Record<string, Field>; declared: F };

/** An object shape with more fields (`interface B extends A`). */
export const extend = <F extends Record<string, FieldInput>, G extends Record<string, FieldInput>>(
  base: { declared: F },
  more: G,
) => object({ ...base.declared, ...more });

/** The TypeScript type a shape describes. */
export type Infer<S> = S extends { kind: 'string' }
  ? string
  : S extends { kind: 'number' }
    ? number
    : S extends { kind: 'boolean' }
      ? boolean
      : S extends { kind: 'null' }
        ? null
        : S extends { kind: 'literal'; value: infer V }
          ? V
          : S extends { kind: 'array'; of: infer O }
            ? Infer<O>[]
            : S extends { kind: 'record'; of: infer O }
              ? Record<string, Infer<O>>
              : S extends { kind: 'union'; of: (infer O)[] }
                ? Infer<O>
                : S extends { kind: 'object'; declared: infer F }
                  ? InferObject<F>
                  : never;

type InferObject<F> = {
  [K in keyof F as F[K] extends { optional: true } ? never : K]: Infer<F[K]>;
} & {
  [K in keyof F as F[K] extends { optional: true } ? K : never]?: F[K] extends { shape: infer S }
    ? Infer<S>
    : never;
};

/** Every way `value` departs from `shape`, as `path: problem` lines (empty when it conforms). */
export function shapeProblems(value: unknown, shape: Shape, path = '$'): string[] {
  switch (shape.kind) {
    case 'string':
    case 'boolean':
      return typeof value === shape.kind
        ? []
        : [`${path}: expected ${shape.kind}, got ${show(value)}`];
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return [`${path}: expected a number, got ${show(value)}`];
      }
      return shape.integer && !Number.isInteger(value)
        ? [`${path}: expected an integer, got ${value}`]
        : [];
    case 'null':
      return value === null ? [] : [`${path}: expected null, got ${show(value)}`];
    case 'literal':
      return value === shape.value
        ? []
        : [`${path}: expected ${show(shape.value)}, got ${show(value)}`];
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected an array, got ${show(value)}`];
      return value.flatMap((item, index) => shapeProblems(item, shape.of, `${path}[${index}]`));
    case 'record':
      if (!isPlainObject(value)) return [`${path}: expected an object, got ${show(value)}`];
      return Object.entries(value).flatMap(([key, item]) =>
        shapeProblems(item, shape.of, `${path}.${key}`),
      );
    case 'union': {
      const attempts = shape.of.map((option) => shapeProblems(value, option, path));
      if (attempts.some((problems) => problems.length === 0)) return [];
      return [
        `${path}: matches none of its ${shape.of.length} forms (${attempts.flat().join('; ')})`,
      ];
    }
    case 'object': {
      if (!isPlainObject(value)) return [`${path}: expected an object, got ${show(value)}`];
      const problems = Object.keys(value)
        .filter((key) => !(key in shape.fields))
        .map((key) => `${path}.${key}: not in the interface`);
      for (const [name, field] of Object.entries(shape.fields)) {
        if (!(name in value)) {
          if (!field.optional) problems.push(`${path}.${name}: missing`);
          continue;
        }
        problems.push(...shapeProblems(value[name], field.shape, `${path}.${name}`));
      }
      return problems;
    }
  }
}

/** Throws, listing every problem, unless `value` has the shape; returns it typed. */
export function expectShape<S extends Shape>(value: unknown, shape: S): Infer<S> {
  const problems = shapeProblems(value, shape);
  if (problems.length > 0) {
    throw new Error(`The body does not have the expected shape:\n  ${problems.join('\n  ')}`);
  }
  return value as Infer<S>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}
