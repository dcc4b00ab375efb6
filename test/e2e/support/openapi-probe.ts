import request from 'supertest';
import { conformanceProblems } from './openapi-conformance';
import {
  mediaTypeOf,
  resolve,
  type OpenApiDocument,
  type Route,
  type Schema,
} from './openapi-document';

/** A request to a route, made of what its documentation shows. */
export interface ExampleRequest {
  path: string;
  query: [string, string][];
  body?: Record<string, unknown>;
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  body: unknown;
}

/**
 * The route called with its examples: path and query parameters, and a JSON body of its
 * properties' examples. An array in the query is sent as repeated parameters (OpenAPI's default
 * `form` style with `explode`).
 */
export function exampleRequest(doc: OpenApiDocument, route: Route): ExampleRequest {
  let path = route.path;
  const query: [string, string][] = [];
  for (const parameter of route.operation.parameters ?? []) {
    const example = parameter.example ?? parameter.schema.example;
    if (parameter.in === 'path') {
      path = path.replace(`{${parameter.name}}`, encodeURIComponent(String(example)));
    } else if (parameter.in === 'query' && example !== undefined) {
      for (const value of Array.isArray(example) ? example : [example]) {
        query.push([parameter.name, String(value)]);
      }
    }
  }
  const body = route.operation.requestBody?.content['application/json']?.schema;
  return { path, query, ...(body ? { body: objectExample(doc, body) } : {}) };
}

function objectExample(doc: OpenApiDocument, schema: Schema): Record<string, unknown> {
  const properties = Object.entries(resolve(doc, schema).properties ?? {});
  return Object.fromEntries(properties.map(([name, property]) => [name, property.example]));
}

export async function send(
  baseUrl: string,
  method: string,
  example: ExampleRequest,
  headers: Record<string, string>,
): Promise<Answer> {
  const search = example.query.length ? `?${new URLSearchParams(example.query).toString()}` : '';
  const url = `${example.path}${search}`;
  const api = request(baseUrl);
  const calls = {
    get: () => api.get(url),
    post: () => api.post(url),
    patch: () => api.patch(url),
    delete: () => api.delete(url),
  };
  if (!(method in calls)) throw new Error(`No probe for ${method}`);
  const call = calls[method as keyof typeof calls]().set(headers);
  const response = await (example.body === undefined ? call : call.send(example.body));
  return {
    status: response.status,
    contentType: String(response.headers['content-type'] ?? ''),
    text: response.text,
    body: response.body,
  };
}

/**
 * What an answer shows that its route's documentation does not say: a status or a media type
 * it does not list, a JSON body that does not match the schema. `checkedBody` tells whether a
 * body was held against a schema.
 */
export function answerProblems(
  doc: OpenApiDocument,
  route: Route,
  answer: Answer,
): { problems: string[]; checkedBody: boolean } {
  const at = `${route.label} ${answer.status}`;
  const documented = route.operation.responses[String(answer.status)];
  if (!documented)
    return { problems: [`${at} is not documented: ${answer.text}`], checkedBody: false };
  if (answer.status === 204) return { problems: [], checkedBody: false };
  const type = mediaTypeOf(answer.contentType);
  const media = Object.entries(documented.content ?? {}).find(([key]) => mediaTypeOf(key) === type);
  if (!media) return { problems: [`${at} answers ${type}, not documented`], checkedBody: false };
  const schema = media[1].schema;
  if (type !== 'application/json' || !schema) return { problems: [], checkedBody: false };
  return { problems: conformanceProblems(doc, schema, answer.body, at), checkedBody: true };
}
