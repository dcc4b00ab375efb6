import { resolve, type OpenApiDocument, type Schema } from './openapi-document';

/**
 * What is wrong with a JSON value against a schema of the document; empty when it conforms.
 * Covers the keywords the gateway's document uses (types with `integer` apart, `nullable`,
 * `enum`, `required`, properties, items, maps, `allOf`). Properties a schema does not name are
 * reported too: an answer must not carry fields its documentation leaves out.
 */
export function conformanceProblems(
  doc: OpenApiDocument,
  schema: Schema,
  value: unknown,
  at = 'body',
): string[] {
  const target = resolve(doc, schema);
  if (target.allOf) {
    return target.allOf.flatMap((part) => conformanceProblems(doc, part, value, at));
  }
  if (value === null) return target.nullable ? [] : [`${at} is null`];
  if (target.enum && !target.enum.includes(value)) {
    return [`${at} is ${JSON.stringify(value)}, not one of ${JSON.stringify(target.enum)}`];
  }
  const kind = target.type ?? (target.properties ? 'object' : undefined);
  if (kind === undefined) return [];
  if (!hasType(kind, value)) return [`${at} is ${JSON.stringify(value)}, not ${kind}`];
  if (kind === 'array') {
    const items = target.items;
    return items
      ? (value as unknown[]).flatMap((item, i) =>
          conformanceProblems(doc, items, item, `${at}[${i}]`),
        )
      : [];
  }
  return kind === 'object' ? objectProblems(doc, target, value as Record<string, unknown>, at) : [];
}

function objectProblems(
  doc: OpenApiDocument,
  schema: Schema,
  value: Record<string, unknown>,
  at: string,
): string[] {
  const named = schema.properties ?? {};
  const missing = (schema.required ?? [])
    .filter((name) => !(name in value))
    .map((name) => `${at}.${name} is missing`);
  const fields = Object.entries(value).flatMap(([name, field]) => {
    const own = named[name];
    if (own) return conformanceProblems(doc, own, field, `${at}.${name}`);
    const others = schema.additionalProperties;
    if (typeof others === 'object') return conformanceProblems(doc, others, field, `${at}.${name}`);
    return others === true ? [] : [`${at}.${name} is not documented`];
  });
  return [...missing, ...fields];
}

function hasType(kind: string, value: unknown): boolean {
  switch (kind) {
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === kind;
  }
}
