import { API_KEY_SCOPES } from '@ninjait/shared';
import { requiredScope } from '../../features/api-keys/index.ts';
import { REST_ROUTES, type RestRoute } from './routes.ts';
import { inputJsonSchema, procedureType, type JsonSchema } from './schemas.ts';

const ERROR = {
  description: 'An error: `code` is the tRPC code (BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, TOO_MANY_REQUESTS, ...)',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

function operation(route: RestRoute) {
  const schema = inputJsonSchema(route.procedure);
  const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
  const properties = schema?.properties ?? {};
  const parameters = pathParams.map((name) => ({ name, in: 'path', required: true, schema: properties[name] ?? { type: 'string' } }));
  let requestBody: unknown;
  if (route.method === 'GET') {
    // Query parameters: the input's fields (arrays repeat the parameter).
    for (const [name, property] of Object.entries(properties)) {
      if (pathParams.includes(name)) continue;
      parameters.push({ name, in: 'query', required: schema?.required?.includes(name) ?? false, schema: property });
    }
  } else if (schema) {
    const body: JsonSchema = { ...schema, properties: Object.fromEntries(Object.entries(properties).filter(([name]) => !pathParams.includes(name))) };
    if (schema.required) body.required = schema.required.filter((name) => !pathParams.includes(name));
    if (body.required?.length === 0) delete body.required;
    if (Object.keys(body.properties ?? {}).length > 0) requestBody = { required: true, content: { 'application/json': { schema: body } } };
  }
  const need = requiredScope(route.procedure, procedureType(route.procedure) ?? 'query');
  return {
    operationId: route.procedure,
    summary: route.summary,
    tags: [route.tag],
    description: `The tRPC procedure \`${route.procedure}\`. API key scope: ${need.kind === 'scope' ? `\`${need.scope}\` (or \`admin\`)` : 'any'}.`,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      200: { description: 'The procedure\'s result as JSON (dates as ISO 8601 strings)', content: { 'application/json': { schema: {} } } },
      400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 429: ERROR,
    },
  };
}

/** The OpenAPI 3 document of the REST surface, built from the procedures' own zod input schemas. */
export function buildOpenApiDocument(version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of REST_ROUTES) (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route);
  return {
    openapi: '3.0.3',
    info: {
      title: 'NinjaIT integration API',
      version,
      description: `Send an API key as \`Authorization: Bearer nk_...\` (create one in the console under Settings > API keys, or with apiKeys.create). Scopes: ${API_KEY_SCOPES.join(', ')}.`,
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (nk_...) or a session token' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, issues: {} } } },
        },
      },
    },
  };
}
