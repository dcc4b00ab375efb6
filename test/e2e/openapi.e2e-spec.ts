import request from 'supertest';
import { FakeHermesServer } from '../fake-hermes';
import { ChatClient } from './support/chat-client';
import { conformanceProblems } from './support/openapi-conformance';
import {
  isReference,
  nodesOf,
  propertiesOf,
  resolve,
  routesOf,
  schemasOf,
  type OpenApiDocument,
  type Parameter,
  type Route,
  type Schema,
} from './support/openapi-document';
import { answerProblems, exampleRequest, send, type ExampleRequest } from './support/openapi-probe';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';
import { validatedFields } from './support/validated-inputs';

/**
 * The document served at `/api/docs-json`, checked as a whole: every rule below walks every
 * path and component, so a new route that forgets an example, a default or an error answer
 * fails here without this file naming it. The last tests call every route with its documented
 * examples and hold the answers against the document.
 */
/** Routes without an input the server could refuse as invalid. */
const UNREFUSABLE = ['GET /metrics', 'GET /api/health'];

describe('OpenAPI document (e2e)', () => {
  const BODY_LIMIT = 4096;
  let t: TestApp;
  let hermes: FakeHermesServer;
  let doc: OpenApiDocument;
  let routes: Route[];

  beforeAll(async () => {
    hermes = new FakeHermesServer();
    const hermesUrl = await hermes.start();
    t = await startTestApp({
      env: { HERMES_URL: hermesUrl, HTTP_MAX_BODY_BYTES: String(BODY_LIMIT) },
    });
    doc = (await request(t.url).get('/api/docs-json').expect(200)).body as OpenApiDocument;
    routes = routesOf(doc);
  });

  afterAll(async () => {
    await t.close();
    await destroyTestApp(t);
    await hermes.stop();
  });

  const parameters = () =>
    routes.flatMap(({ label, operation }) =>
      (operation.parameters ?? []).map((parameter) => ({ label, parameter })),
    );
  const named = (label: string, parameter: Parameter) =>
    `${label} ${parameter.in}:${parameter.name}`;

  it('keeps a bearer token pasted in the Swagger UI across reloads', async () => {
    const init = await request(t.url).get('/api/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toMatch(/"persistAuthorization":\s*true/);
  });

  it('marks every parameter that has a default optional', () => {
    const withDefault = parameters().filter(
      ({ parameter }) => parameter.schema.default !== undefined,
    );
    expect(withDefault.length).toBeGreaterThan(0);
    const required = withDefault.filter(({ parameter }) => parameter.required !== false);
    expect(required.map(({ label, parameter }) => named(label, parameter))).toEqual([]);
  });

  it('gives every parameter, every schema property and every inline schema an example', () => {
    const parameterGaps = parameters()
      .filter(({ parameter }) => !('example' in parameter) && !('example' in parameter.schema))
      .map(({ label, parameter }) => named(label, parameter));
    const properties = schemasOf(doc).flatMap(({ where, schema }) => propertiesOf(schema, where));
    expect(properties.length).toBeGreaterThan(100);
    const propertyGaps = properties
      .filter(({ schema }) => !('example' in schema))
      .map(({ where }) => where);
    // A body or an answer that is not a named schema (a file, a map, a text) shows its own.
    const mediaGaps = routes.flatMap(({ label, operation }) =>
      [
        ...Object.entries(operation.requestBody?.content ?? {}),
        ...Object.values(operation.responses).flatMap((answer) =>
          Object.entries(answer.content ?? {}),
        ),
      ]
        .filter(([, media]) => media.schema && !isReference(media.schema))
        .filter(([, media]) => !('example' in media) && !('example' in (media.schema as Schema)))
        .map(([type]) => `${label} (${type})`),
    );
    expect([...parameterGaps, ...propertyGaps, ...mediaGaps]).toEqual([]);
  });

  it('types every number as an integer, or as a real number with its format', () => {
    const numbers = schemasOf(doc)
      .flatMap(({ where, schema }) => nodesOf(schema, where))
      .filter(({ schema }) => schema.type === 'number' || schema.type === 'integer');
    expect(numbers.filter(({ schema }) => schema.type === 'integer').length).toBeGreaterThan(50);
    const vague = numbers.filter(
      ({ schema }) =>
        schema.type === 'number' && schema.format !== 'double' && schema.format !== 'float',
    );
    expect(vague.map(({ where }) => where)).toEqual([]);
  });

  it('documents each validated field as the server validates it: integer, choices, optional', () => {
    const fields = validatedFields(t.app);
    expect(fields.filter((field) => field.rules.has('isInt')).length).toBeGreaterThan(3);
    const mismatches = fields.flatMap((field) => {
      const route = routes.find(({ operation }) => operation.operationId === field.operationId);
      if (!route) return [`${field.operationId} is not documented`];
      const where = `${route.label} ${field.in}:${field.name}`;
      const documented = documentedField(route, field.in, field.name);
      if (!documented) return [`${where} is not documented`];
      const problems: string[] = [];
      if (field.rules.has('isInt') && documented.schema.type !== 'integer') {
        problems.push(
          `${where} is validated as an integer, documented as ${documented.schema.type}`,
        );
      }
      const choices = field.rules.get('isIn')?.[0];
      if (Array.isArray(choices) && !sameMembers(documented.schema.enum, choices)) {
        problems.push(
          `${where} takes ${choices.join('|')}, documented as ${documented.schema.enum?.join('|')}`,
        );
      }
      if (documented.required === field.rules.has('isOptional')) {
        problems.push(`${where} is ${documented.required ? '' : 'not '}documented as required`);
      }
      return problems;
    });
    expect(mismatches).toEqual([]);
  });

  it('documents a success with its schema and the coded errors of every operation', () => {
    const errorSchema = { $ref: '#/components/schemas/ErrorResponseDto' };
    const problems = routes.flatMap(({ label, operation }) => {
      const statuses = Object.keys(operation.responses);
      const success = statuses.filter((status) => status.startsWith('2'));
      const described = success.some(
        (status) =>
          status === '204' ||
          Object.values(operation.responses[status].content ?? {}).some((media) => media.schema),
      );
      const expected = [
        ...(operation.security?.length ? ['401'] : []),
        ...(operation.parameters?.length || operation.requestBody ? ['400'] : []),
        ...(operation.requestBody ? ['413'] : []),
      ];
      const errors = statuses.filter((status) => Number(status) >= 400);
      return [
        ...(described ? [] : [`${label} has no success answer with a schema`]),
        ...expected
          .filter((status) => !statuses.includes(status))
          .map((s) => `${label} lacks ${s}`),
        ...errors.flatMap((status) => {
          const media = operation.responses[status].content?.['application/json'];
          if (!media || media.schema?.$ref !== errorSchema.$ref) {
            return [`${label} ${status} is not the coded error body`];
          }
          const example = media.example as { statusCode?: unknown } | undefined;
          if (example?.statusCode !== Number(status)) return [`${label} ${status} has no example`];
          return conformanceProblems(doc, errorSchema, example, `${label} ${status} example`);
        }),
      ];
    });
    expect(problems).toEqual([]);
  });

  describe('answers', () => {
    const ordered = (): Route[] => {
      // Reads first, deletions last, so that the writes meet the example session still there.
      const rank = (method: string) => ['get', 'post', 'patch', 'delete'].indexOf(method);
      return [...routes].sort((a, b) => rank(a.method) - rank(b.method));
    };
    const probe = async (subset: Route[]) => {
      const problems: string[] = [];
      let checkedBodies = 0;
      for (const route of subset) {
        const example = exampleRequest(doc, route);
        const answer = await send(t.url, route.method, example, t.auth);
        const found = answerProblems(doc, route, answer);
        problems.push(...found.problems);
        if (found.checkedBody) checkedBodies++;
        if (answer.status === 400) {
          problems.push(`${route.label} refused its examples: ${answer.text}`);
        }
      }
      return { problems, checkedBodies };
    };

    it('answers the documented examples as documented, before and after their session exists', async () => {
      const before = await probe(ordered().filter(({ method }) => method === 'get'));

      // The example session, with a run behind it: a transcript with a tool call, and usage.
      const sessionId = exampleSessionId(doc);
      const client = await ChatClient.connect(t.url, { token: t.token });
      try {
        hermes.setNextScenario({
          deltas: 3,
          reasoning: true,
          tools: 1,
          usage: { input_tokens: 1200, output_tokens: 80 },
        });
        await client.request('run', { session_id: sessionId, input: 'Split the invoice module' });
        await client.waitFor('run.completed', (event) => event.session_id === sessionId);
      } finally {
        client.close();
      }
      const after = await probe(ordered());

      expect([...before.problems, ...after.problems]).toEqual([]);
      expect(after.checkedBodies).toBeGreaterThan(15);
    });

    it('ignores unknown fields where the document says so, and only on the hermes-studio routes', async () => {
      const lenient = routes.filter((route) => route.operation['x-unknown-fields'] === 'ignored');
      expect(lenient.length).toBeGreaterThan(10);
      expect(lenient.filter((route) => !route.path.startsWith('/api/hermes/'))).toEqual([]);
      const wrong: string[] = [];
      for (const route of ordered().filter((r) => lenient.includes(r))) {
        const example = exampleRequest(doc, route);
        const unknown = withUnknownField(route, example);
        if (!unknown) continue;
        const plain = await send(t.url, route.method, example, t.auth);
        const extended = await send(t.url, route.method, unknown, t.auth);
        if (extended.status !== plain.status || plain.status === 400) {
          wrong.push(
            `${route.label}: ${extended.status} with an unknown field, ${plain.status} without`,
          );
        }
      }
      expect(wrong).toEqual([]);
    });

    it('refuses a missing token, invalid input and an oversized body as documented', async () => {
      const refusals: [Route, ExampleRequest, Record<string, string>, number][] = [];
      for (const route of routes) {
        const example = exampleRequest(doc, route);
        if (route.operation.security?.length) refusals.push([route, example, {}, 401]);
        const invalid = invalidRequest(route, example);
        if (invalid) refusals.push([route, invalid, t.auth, 400]);
        if (example.body !== undefined) {
          refusals.push([
            route,
            { ...example, body: { pad: 'x'.repeat(BODY_LIMIT) } },
            t.auth,
            413,
          ]);
        }
      }
      expect(refusals.filter(([, , , status]) => status === 413).length).toBeGreaterThan(0);
      const invalidFor = new Set(refusals.filter(([, , , s]) => s === 400).map(([r]) => r.label));
      expect(routes.filter((route) => !invalidFor.has(route.label)).map((r) => r.label)).toEqual(
        UNREFUSABLE,
      );
      const wrong: string[] = [];
      for (const [route, example, headers, status] of refusals) {
        const answer = await send(t.url, route.method, example, headers);
        if (answer.status !== status) wrong.push(`${route.label}: ${answer.status}, not ${status}`);
        wrong.push(...answerProblems(doc, route, answer).problems);
      }
      expect(wrong).toEqual([]);
    });
  });

  function documentedField(
    route: Route,
    source: 'query' | 'path' | 'body',
    name: string,
  ): { schema: Schema; required: boolean } | undefined {
    if (source !== 'body') {
      const parameter = route.operation.parameters?.find((p) => p.in === source && p.name === name);
      return parameter && { schema: parameter.schema, required: parameter.required === true };
    }
    const body = route.operation.requestBody?.content['application/json']?.schema;
    const schema = body && resolve(doc, body);
    const property = schema?.properties?.[name];
    return property && { schema: property, required: schema.required?.includes(name) === true };
  }
});

function sameMembers(documented: unknown[] | undefined, validated: unknown[]): boolean {
  return (
    documented !== undefined &&
    documented.length === validated.length &&
    validated.every((value) => documented.includes(value))
  );
}

/** The session id of the examples: what the `id` path parameters show. */
function exampleSessionId(doc: OpenApiDocument): string {
  const id = routesOf(doc)
    .flatMap(({ operation }) => operation.parameters ?? [])
    .find((parameter) => parameter.in === 'path' && parameter.name === 'id');
  if (typeof id?.schema.example !== 'string') throw new Error('No example session id');
  return id.schema.example;
}

/** The example request with a query parameter or body field the route does not declare. */
function withUnknownField(route: Route, example: ExampleRequest): ExampleRequest | undefined {
  if ((route.operation.parameters ?? []).some((parameter) => parameter.in === 'query')) {
    return { ...example, query: [...example.query, ['not_a_parameter', '1']] };
  }
  if (example.body !== undefined) return { ...example, body: { ...example.body, not_a_field: 1 } };
  return undefined;
}

/**
 * A request the route's validation must refuse: an unknown query parameter or body field (the
 * API refuses unknown fields, but on routes documented to ignore them), else a declared integer
 * parameter that is no number, a body without its fields, or a path parameter outside its
 * pattern.
 */
function invalidRequest(route: Route, example: ExampleRequest): ExampleRequest | undefined {
  if (route.operation['x-unknown-fields'] !== 'ignored') {
    const unknown = withUnknownField(route, example);
    if (unknown) return unknown;
  }
  const parameters = route.operation.parameters ?? [];
  const integer = parameters.find(
    (parameter) => parameter.in === 'query' && parameter.schema.type === 'integer',
  );
  if (integer) {
    const query = example.query.filter(([name]) => name !== integer.name);
    return { ...example, query: [...query, [integer.name, 'not-a-number']] };
  }
  if (example.body !== undefined) return { ...example, body: {} };
  const patterned = parameters.find(
    (parameter) => parameter.schema.pattern ?? parameter.schema.items?.pattern,
  );
  if (!patterned) return undefined;
  if (patterned.in === 'query') {
    const query = example.query.filter(([name]) => name !== patterned.name);
    return { ...example, query: [...query, [patterned.name, '!']] };
  }
  return { ...example, path: example.path.replace(String(patterned.schema.example), '%21') };
}
