import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { ZodError, z } from 'zod';
import { AGENT_VERSION } from '@ninjait/shared';
import { sendJson } from '../../platform/http/probes.ts';
import { requestTarget } from '../../platform/http/request-target.ts';
import { createContext } from '../../platform/trpc/context.ts';
import { createCallerFactory } from '../../platform/trpc/trpc.ts';
import type { AppRouter } from '../router.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { CallerGate } from '../../platform/trpc/caller.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { matchRoute, pathKnown } from './routes.ts';
import { inputJsonSchema, inputSchemaOf, type JsonSchema } from './schemas.ts';

/** Largest JSON body a REST call may send: a script with its metadata fits many times over. */
export const MAX_REST_BODY_BYTES = 1024 * 1024;
/** The API's version in the document: the wire protocol's, which the agent and server share. */
const API_VERSION = AGENT_VERSION;

/** What the REST surface calls through: the server's router, how callers are proven, where failures are logged. */
export interface RestDeps {
  router: AppRouter;
  gate: CallerGate;
  log: Pick<Logger, 'error'>;
}

let openApi: string | null = null;

class RestError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REST_BODY_BYTES) throw new RestError(413, 'PAYLOAD_TOO_LARGE', `The body is over ${MAX_REST_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  // No body (POST …/cancel) is no input; a body is JSON only (a cross-site form cannot send JSON without CORS).
  if (size === 0) return {};
  const type = req.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new RestError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RestError(400, 'BAD_REQUEST', 'The body is not valid JSON');
  }
}

/** Query strings carry text: numbers and booleans are read as the input's JSON Schema says they are. */
function coerce(value: string, schema: JsonSchema | undefined): unknown {
  if (schema?.type === 'integer' || schema?.type === 'number') return value.trim() === '' ? value : Number(value);
  if (schema?.type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

function queryInput(query: URLSearchParams, schema: JsonSchema | null): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const name of new Set(query.keys())) {
    const property = schema?.properties?.[name];
    const values = query.getAll(name);
    input[name] = property?.type === 'array' ? values.map((value) => coerce(value, property.items)) : coerce(values[values.length - 1]!, property);
  }
  return input;
}

function sendError(res: ServerResponse, error: unknown, services: RestDeps): void {
  if (error instanceof RestError) return sendJson(res, error.status, { error: { code: error.code, message: error.message } });
  if (error instanceof TRPCError) {
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    if (internal) services.log.error({ err: error.cause ?? error }, 'REST call failed');
    const issues = error.cause instanceof ZodError ? z.flattenError(error.cause) : undefined;
    return sendJson(res, getHTTPStatusCodeFromError(error), { error: { code: error.code, message: internal ? 'Internal server error' : error.message, ...(issues ? { issues } : {}) } });
  }
  services.log.error({ err: error }, 'REST call failed');
  sendJson(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
}

async function call(services: Rest, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
  const method = req.method ?? 'GET';
  const matched = matchRoute(method, path);
  if (!matched) {
    if (pathKnown(path)) return sendJson(res, 405, { error: { code: 'METHOD_NOT_SUPPORTED', message: `${method.slice(0, 16)} is not an operation of ${path}` } });
    return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'No such API route: see /api/openapi.json' } });
  }
  const { route, params } = matched;
  const schema = inputSchemaOf(route.procedure);
  const body = method === 'GET' ? queryInput(query, inputJsonSchema(route.procedure)) : await readJsonBody(req);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new RestError(400, 'BAD_REQUEST', 'The body must be a JSON object');
  const input = schema ? { ...body, ...params } : undefined;
  const ctx = await createContext(services.gate, { req, res, info: { connectionParams: null } });
  // Integrations authenticate with the Authorization header only: no cookie, so no CSRF, and no local-admin header.
  const bearer = req.headers.authorization?.match(/^Bearer (.{1,256})$/)?.[1] ?? null;
  const caller = services.createCaller({ ...ctx, sessionToken: bearer, localAdminToken: null, setCookie: null });
  const procedure = route.procedure.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (input: unknown) => Promise<unknown>;
  const result = await procedure(input);
  sendJson(res, 200, result ?? null);
}

/**
 * The REST surface at /api/v1/… (each route one tRPC procedure, see routes.ts) and its OpenAPI
 * document at /api/openapi.json. Returns false for other paths.
 */
function handleRest(services: Rest, req: IncomingMessage, res: ServerResponse): boolean {
  const { path, query } = requestTarget(req);
  if (path === '/api/openapi.json') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return (sendJson(res, 405, { error: { code: 'METHOD_NOT_SUPPORTED', message: 'GET only' } }), true);
    openApi ??= JSON.stringify(buildOpenApiDocument(API_VERSION));
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' });
    res.end(req.method === 'HEAD' ? undefined : openApi);
    return true;
  }
  if (!path.startsWith('/api/')) return false;
  call(services, req, res, path, query).catch((error: unknown) => {
    if (!res.headersSent) sendError(res, error, services);
  });
  return true;
}

/** The deps with the router's in-process caller, made once per server. */
const withCaller = (deps: RestDeps) => ({ ...deps, createCaller: createCallerFactory(deps.router) });
type Rest = ReturnType<typeof withCaller>;

/**
 * The REST surface's HTTP route: /api/v1/… (each route one tRPC procedure, see routes.ts) and the
 * OpenAPI document at /api/openapi.json. The route answers false for other paths.
 */
export function createRestHandler(deps: RestDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const rest = withCaller(deps);
  return (req, res) => handleRest(rest, req, res);
}
