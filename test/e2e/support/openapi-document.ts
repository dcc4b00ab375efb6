/**
 * The parts of an OpenAPI 3.0 document that the checks of `openapi.e2e-spec.ts` read, and the
 * walks over it: every operation, every schema with the place it sits, every property.
 */

export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  example?: unknown;
  default?: unknown;
  enum?: unknown[];
  nullable?: boolean;
  pattern?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  allOf?: Schema[];
}

export interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  example?: unknown;
  schema: Schema;
}

export interface MediaType {
  schema?: Schema;
  example?: unknown;
}

export interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { description: string; content?: Record<string, MediaType> }>;
  security?: Record<string, string[]>[];
  /** `ignored` where the route drops query parameters and body fields it does not declare. */
  'x-unknown-fields'?: 'ignored';
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

export interface Route {
  method: string;
  /** The path as documented, e.g. `/api/sessions/{id}`. */
  path: string;
  operation: Operation;
  /** `GET /api/sessions/{id}`, for messages. */
  label: string;
}

export function routesOf(doc: OpenApiDocument): Route[] {
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      method,
      path,
      operation,
      label: `${method.toUpperCase()} ${path}`,
    })),
  );
}

export function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const target = doc.components.schemas[name];
  if (!target) throw new Error(`${schema.$ref} is not in the document`);
  return resolve(doc, target);
}

/**
 * Every schema written in the document, with where it is: the components, and the inline
 * schemas of parameters, request bodies and responses. A `$ref` is not a schema of its own
 * (its target is among the components).
 */
export function schemasOf(doc: OpenApiDocument): { where: string; schema: Schema }[] {
  const found = Object.entries(doc.components.schemas).map(([name, schema]) => ({
    where: name,
    schema,
  }));
  for (const { label, operation } of routesOf(doc)) {
    for (const parameter of operation.parameters ?? []) {
      found.push({ where: `${label} ?${parameter.name}`, schema: parameter.schema });
    }
    const bodies = Object.entries(operation.requestBody?.content ?? {}).map(
      ([type, media]) => [`${label} body (${type})`, media] as const,
    );
    const answers = Object.entries(operation.responses).flatMap(([status, response]) =>
      Object.entries(response.content ?? {}).map(
        ([type, media]) => [`${label} ${status} (${type})`, media] as const,
      ),
    );
    for (const [where, media] of [...bodies, ...answers]) {
      if (media.schema) found.push({ where, schema: media.schema });
    }
  }
  return found.filter(({ schema }) => !schema.$ref);
}

/** A schema that only points at a named one (directly, through `allOf`, or as array items). */
export function isReference(schema: Schema): boolean {
  if (schema.$ref) return true;
  if (schema.allOf?.length === 1) return isReference(schema.allOf[0]);
  return schema.type === 'array' && schema.items !== undefined && isReference(schema.items);
}

/**
 * Every property of a schema and of the inline object schemas nested in it, named by its path;
 * the schema itself first (named `where`). Named schemas it points at are left to their own walk.
 */
export function nodesOf(schema: Schema, where: string): { where: string; schema: Schema }[] {
  if (schema.$ref) return [];
  const nested = [
    ...Object.entries(schema.properties ?? {}).map(([name, property]) => [`.${name}`, property]),
    ...(schema.items ? [['[]', schema.items]] : []),
    ...(typeof schema.additionalProperties === 'object'
      ? [['{}', schema.additionalProperties]]
      : []),
    ...(schema.allOf ?? []).map((part, index) => [`&${index}`, part]),
  ] as [string, Schema][];
  return [
    { where, schema },
    ...nested.flatMap(([step, child]) => nodesOf(child, `${where}${step}`)),
  ];
}

/** The properties under a schema (at any depth) that are not references to a named schema. */
export function propertiesOf(schema: Schema, where: string): { where: string; schema: Schema }[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, property]) => {
    const path = `${where}.${name}`;
    const own = isReference(property) ? [] : [{ where: path, schema: property }];
    const inner = [property, property.items, property.additionalProperties].filter(
      (child): child is Schema => typeof child === 'object' && child !== null && !child.$ref,
    );
    return [...own, ...inner.flatMap((child) => propertiesOf(child, path))];
  });
}

/** `text/markdown` of `text/markdown; charset=utf-8`. */
export function mediaTypeOf(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}
