import type { KoaContext, Provider } from 'oidc-provider';
import { routeName } from './internals.ts';

export type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/** Koa middleware Gatehouse adds to provider routes, by route name (lib/helpers/initialize_app.js). */
export type RouteAdditions = ReadonlyArray<readonly [route: string, middleware: Middleware]>;

/**
 * Gatehouse's additions to the provider's routes, mounted as one Koa middleware in front of the
 * provider's router. The route a request reaches is asked of that router once (routeName: its
 * case folding and trailing-slash rule included, so no spelling of a path dodges an addition)
 * and only that route's additions run, group by group in the order given. Each group used to
 * be a middleware of its own that matched the route itself: three route matches and three async
 * layers on every token request. In bench:oauth those three middlewares, the rate limiting in
 * them included, came to about a tenth of a client_credentials grant's CPU time.
 *
 * `everyRequest` runs first on every request, provider route or not (the base CSP).
 */
export function routeAdditions(
  provider: Provider,
  everyRequest: (ctx: KoaContext) => void,
  ...groups: RouteAdditions[]
): Middleware {
  const byRoute = new Map<string, Middleware[]>();
  for (const group of groups)
    for (const [route, middleware] of group) byRoute.set(route, [...(byRoute.get(route) ?? []), middleware]);
  const chains = new Map([...byRoute].map(([route, list]) => [route, chain(list)]));
  return (ctx, next) => {
    everyRequest(ctx);
    const route = routeName(provider, ctx.method, ctx.path);
    const additions = route === undefined ? undefined : chains.get(route);
    return additions ? additions(ctx, next) : next();
  };
}

/** One middleware running `list` in order, each one's `next` the rest of the list. */
function chain(list: readonly Middleware[]): Middleware {
  const [first, ...rest] = list;
  if (!first) return (_ctx, next) => next();
  if (rest.length === 0) return first;
  const inner = chain(rest);
  return (ctx, next) => first(ctx, () => inner(ctx, next));
}
