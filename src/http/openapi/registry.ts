import { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

export interface RouteDoc {
  method: HttpMethod;
  /** Hono path syntax (`/api/v1/passkeys/:id`); converted to OpenAPI's `{id}`. */
  path: string;
  summary: string;
  tag: string;
  /** Whether the route needs a session cookie. */
  auth: boolean;
  body?: z.ZodType;
  query?: z.ZodObject;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }).loose() })
  .meta({ id: 'Error' });

/** Collects route descriptions as routes are mounted; serves them as one OpenAPI 3.1 document. */
export class OpenApiRegistry {
  readonly #routes: RouteDoc[] = [];

  add(route: RouteDoc): void {
    this.#routes.push(route);
  }

  document(info: { title: string; version: string; serverUrl: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of this.#routes) {
      const path = route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      const parameters: unknown[] = [...route.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      if (route.query) {
        for (const [name, schema] of Object.entries(route.query.shape)) {
          parameters.push({
            name,
            in: 'query',
            required: !(schema as z.ZodType).safeParse(undefined).success,
            schema: toSchema(schema as z.ZodType),
          });
        }
      }
      const responses: Record<string, unknown> = {};
      for (const [status, response] of Object.entries(route.responses)) {
        responses[status] = {
          description: response.description,
          ...(response.schema
            ? { content: { 'application/json': { schema: toSchema(response.schema) } } }
            : {}),
        };
      }
      responses.default = {
        description: 'Error',
        content: { 'application/json': { schema: toSchema(errorSchema) } },
      };
      paths[path] ??= {};
      paths[path][route.method] = {
        summary: route.summary,
        tags: [route.tag],
        ...(route.auth ? { security: [{ sessionCookie: [] }] } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(route.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: toSchema(route.body) } },
              },
            }
          : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info: { title: info.title, version: info.version },
      servers: [{ url: info.serverUrl }],
      components: {
        securitySchemes: {
          sessionCookie: { type: 'apiKey', in: 'cookie', name: '__Host-gatehouse_session' },
        },
      },
      paths,
    };
  }
}

function toSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'output' });
}
