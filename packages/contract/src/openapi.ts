import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { Endpoint } from './endpoint';
import { endpoints } from './endpoints';
import { errorBodySchema } from './errors';
import { healthResponseSchema } from './health';

const binary = { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } };

function toOpenApiPath(path: string): string {
  return `/api${path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
}

/**
 * The OpenAPI 3.1 document of the whole API, generated from the endpoint table so a mobile
 * or CLI client can be written from it.
 */
export function buildOpenApiDocument(options: { version: string; serverUrl?: string }) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: '__Host-medseal_session',
  });
  const error = {
    description: 'Error',
    content: { 'application/json': { schema: errorBodySchema } },
  };
  registry.registerPath({
    method: 'get',
    path: '/api/health',
    summary: 'Health and readiness: whether the database answers.',
    tags: ['health'],
    responses: {
      200: {
        description: 'Ready',
        content: { 'application/json': { schema: healthResponseSchema } },
      },
      503: {
        description: 'Database down',
        content: { 'application/json': { schema: healthResponseSchema } },
      },
    },
  });
  for (const [name, e] of Object.entries(endpoints) as [string, Endpoint][]) {
    const success =
      e.response === undefined
        ? { description: 'Done' }
        : e.response === 'binary'
          ? { description: 'OK', content: binary }
          : e.response === 'event-stream'
            ? { description: 'OK', content: { 'text/event-stream': { schema: z.string() } } }
            : { description: 'OK', content: { 'application/json': { schema: e.response } } };
    registry.registerPath({
      method: e.method,
      path: toOpenApiPath(e.path),
      operationId: name,
      summary: e.summary,
      description: e.errors?.length ? `Error codes: ${e.errors.join(', ')}` : undefined,
      tags: [e.tag],
      security: e.auth === 'session' ? [{ session: [] }] : [],
      request: {
        params: e.params as z.ZodObject | undefined,
        query: e.query as z.ZodObject | undefined,
        body:
          e.body === undefined
            ? undefined
            : e.body === 'binary'
              ? { content: binary }
              : { content: { 'application/json': { schema: e.body } } },
      },
      responses: {
        [e.status]: success,
        400: error,
        401: error,
        403: error,
        404: error,
        409: error,
        429: error,
      },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Medseal API', version: options.version },
    servers: options.serverUrl ? [{ url: options.serverUrl }] : [],
  });
}
