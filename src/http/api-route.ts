import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors/app-error.ts';
import type { AppEnv } from './app-env.ts';
import type { OpenApiRegistry, RouteDoc } from './openapi/registry.ts';

type BodyOf<D extends RouteDoc> = D['body'] extends z.ZodType ? z.output<D['body']> : undefined;
type QueryOf<D extends RouteDoc> = D['query'] extends z.ZodObject ? z.output<D['query']> : undefined;

export interface ApiInput<D extends RouteDoc> {
  body: BodyOf<D>;
  query: QueryOf<D>;
}

/**
 * Mounts a JSON route and records it in the OpenAPI document, so the document is generated
 * from the same zod schemas the route validates with. Invalid input is a 400
 * `validation_failed` listing the offending fields, never a 500.
 */
export function apiRoute<const D extends RouteDoc>(
  app: Hono<AppEnv>,
  registry: OpenApiRegistry,
  doc: D,
  handler: (c: Context<AppEnv>, input: ApiInput<D>) => Promise<Response>,
): void {
  registry.add(doc);
  app.on(doc.method.toUpperCase(), doc.path, async (c) => {
    let body: unknown;
    if (doc.body) {
      let raw: unknown;
      try {
        raw = await c.req.json();
      } catch {
        throw new AppError('bad_request', 'The request body is not valid JSON.');
      }
      body = parseWith(doc.body, raw);
    }
    const query = doc.query ? parseWith(doc.query, c.req.query()) : undefined;
    return handler(c, { body, query } as ApiInput<D>);
  });
}

function parseWith(schema: z.ZodType, value: unknown): unknown {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.join('.'),
      message: issue.message,
    }));
    throw new AppError('validation_failed', 'Some fields are missing or invalid.', { extra: { issues } });
  }
  return result.data;
}
