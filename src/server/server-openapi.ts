/** Generates the OpenAPI 3.1 document from the route table and the same zod schemas the server validates with. */
import { z } from 'zod';
import { API_ROUTES, type ApiRoute } from './server-routes.js';
import { apiSchemaRegistry } from './server-schemas.js';
import { STREAM_API_ROUTES } from './stream-routes.js';

type JsonObject = Record<string, unknown>;

const COMPONENT_URI = (id: string): string => `#/components/schemas/${id}`;

/** Reusable error responses by status. */
const ERROR_RESPONSES: Record<number, { name: string; description: string }> = {
  400: {
    name: 'BadRequest',
    description: 'Invalid input (KW_VALIDATION, KW_INVALID_IMPORT); `details` names each bad field',
  },
  401: { name: 'Unauthorized', description: 'Missing or invalid bearer token (KW_UNAUTHORIZED)' },
  403: { name: 'Forbidden', description: 'Authenticated but not allowed (KW_FORBIDDEN)' },
  404: { name: 'NotFound', description: 'No such record (KW_NOT_FOUND)' },
  409: { name: 'Conflict', description: 'Conflicts with what is stored (KW_CONFLICT)' },
  413: { name: 'PayloadTooLarge', description: 'The body is over the limit (KW_PAYLOAD_TOO_LARGE)' },
  415: {
    name: 'UnsupportedMediaType',
    description: 'The Content-Type is not accepted by this route (KW_VALIDATION)',
  },
  500: {
    name: 'InternalError',
    description: 'Unexpected failure; the server log has the details (KW_INTERNAL)',
  },
  503: { name: 'StoreUnavailable', description: 'The store did not answer (KW_STORE)' },
};

/** Drops the keys that only make sense in a standalone JSON Schema document. */
function stripSchemaKeys(schema: JsonObject): JsonObject {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** A schema as an OpenAPI schema object: a `$ref` when it is a named component, inline otherwise. */
function schemaRef(schema: z.ZodType): JsonObject {
  const meta = apiSchemaRegistry.get(schema);
  if (meta) return { $ref: COMPONENT_URI(meta.id) };
  return stripSchemaKeys(
    z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as JsonObject,
  );
}

/** Path and query parameters of a route, one entry per field of its params/query object. */
function parameters(route: ApiRoute): JsonObject[] {
  const out: JsonObject[] = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as {
      properties?: Record<string, JsonObject>;
      required?: string[];
    };
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      const { description, ...propSchema } = prop;
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: propSchema,
      });
    }
  }
  return out;
}

/** The error statuses a route can answer, from what it is (authenticated, has input, has a body). */
function errorStatuses(route: ApiRoute): number[] {
  const s = new Set<number>(route.errors ?? []);
  if (route.params || route.query || route.body || route.rawBody || route.auth) s.add(400);
  if (route.auth) {
    s.add(401);
    s.add(503);
  }
  if (route.body || route.rawBody) {
    s.add(413);
    s.add(415);
  }
  if (route.path === '/readyz') s.add(503);
  s.add(500);
  return [...s].sort((a, b) => a - b);
}

function operation(route: ApiRoute): JsonObject {
  const op: JsonObject = {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    security: route.auth ? [{ bearerAuth: [] }] : [],
  };
  const params = parameters(route);
  if (params.length > 0) op.parameters = params;
  if (route.body) {
    // A body schema that accepts no body at all (`.optional()`) makes the body optional.
    const required = !route.body.safeParse(undefined).success;
    op.requestBody = { required, content: { 'application/json': { schema: schemaRef(route.body) } } };
  } else if (route.rawBody) {
    const file = { type: 'string', contentMediaType: 'application/octet-stream' };
    op.requestBody = {
      required: true,
      description: route.rawBodyDescription ?? 'The export file, byte for byte',
      content: {
        'application/octet-stream': { schema: file },
        'application/json': { schema: file },
        'text/*': { schema: file },
      },
    };
  }
  const ok: JsonObject = { description: route.response.description };
  if (route.response.contentType) {
    ok.content = { [route.response.contentType.split(';')[0]!]: { schema: { type: 'string' } } };
  } else if (route.response.schema) {
    ok.content = { 'application/json': { schema: schemaRef(route.response.schema) } };
  }
  const responses: JsonObject = { [String(route.response.status)]: ok };
  for (const status of errorStatuses(route)) {
    responses[String(status)] = { $ref: `#/components/responses/${ERROR_RESPONSES[status]!.name}` };
  }
  op.responses = responses;
  return op;
}

/** Converts Fastify's `:param` path syntax to OpenAPI's `{param}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

let cached: JsonObject | null = null;

/**
 * The OpenAPI 3.1 document of the whole HTTP API (also served at GET /api/openapi.json).
 * @example
 * writeFileSync('openapi.json', JSON.stringify(buildOpenApiDocument(), null, 2));
 */
export function buildOpenApiDocument(): object {
  if (cached) return structuredClone(cached);
  const paths: Record<string, JsonObject> = {};
  for (const route of [...API_ROUTES, ...STREAM_API_ROUTES]) {
    const key = toOpenApiPath(route.path);
    paths[key] ??= {};
    paths[key][route.method.toLowerCase()] = operation(route);
  }
  const { schemas } = z.toJSONSchema(apiSchemaRegistry, {
    io: 'input',
    target: 'draft-2020-12',
    uri: COMPONENT_URI,
    unrepresentable: 'any',
  }) as { schemas: Record<string, JsonObject> };
  const componentSchemas = Object.fromEntries(
    Object.entries(schemas)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, s]) => [id, stripSchemaKeys(s)]),
  );
  const errorContent = { 'application/json': { schema: { $ref: COMPONENT_URI('Error') } } };
  const responses = Object.fromEntries(
    Object.entries(ERROR_RESPONSES).map(([status, r]) => [
      r.name,
      {
        description: r.description,
        ...(status === '401'
          ? {
              headers: {
                'WWW-Authenticate': {
                  description: 'Bearer challenge (RFC 6750)',
                  schema: { type: 'string' },
                },
              },
            }
          : {}),
        content: errorContent,
      },
    ]),
  );
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Keyward API',
      version: '1.0.0',
      description:
        'Inventory of machine identities (AI agents, service accounts, CI pipelines, bots, MCP servers), their credentials, grants and posture findings. ' +
        'Every /api/v1 route requires `Authorization: Bearer <admin token>`; errors share one shape: `{ code, message, details, requestId }`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'identities', description: 'Machine identities' },
      { name: 'inventory', description: 'Credentials, grants, resources and people' },
      { name: 'findings', description: 'Posture findings and rules' },
      { name: 'imports', description: 'Importing export files' },
      { name: 'events', description: 'The hash-chained event log' },
      { name: 'operations', description: 'Health, readiness, metrics and this document' },
      { name: 'datasets', description: 'Training-data integrity: verification against signed manifests' },
      {
        name: 'dashboard',
        description: 'What the web dashboard reads: the overview, token activity, scans, live updates',
      },
    ],
    paths,
    components: {
      schemas: componentSchemas,
      responses,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'The admin token written to <dataDir>/admin.token on first start',
        },
      },
    },
  };
  return structuredClone(cached);
}
