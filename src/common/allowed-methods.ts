interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  matchers?: ((path: string) => unknown)[];
}

/** An endpoint answers a few methods; a layer bound to more is middleware. */
const ENDPOINT_METHODS_MAX = 8;

const cache = new WeakMap<object, Map<string, string[]>>();

/**
 * The methods the app's routes answer on `path` (upper-case, HEAD with GET),
 * read from Express's router: what a 405's `Allow` header lists. Empty when no
 * route matches the path at all, which stays a 404.
 */
export function allowedMethods(app: unknown, path: string): string[] {
  const stack = (app as { router?: { stack?: RouteLayer[] } } | undefined)?.router?.stack;
  if (!stack) return [];
  let known = cache.get(stack);
  if (!known) cache.set(stack, (known = new Map()));
  const hit = known.get(path);
  if (hit) return hit;
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route || !layer.matchers) continue;
    // middleware bound to every method (Nest's `forRoutes`) is not an endpoint
    const bound = Object.keys(layer.route.methods);
    if (bound.includes('_all') || bound.length > ENDPOINT_METHODS_MAX) continue;
    if (!layer.matchers.some((match) => Boolean(match(path)))) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') methods.add(method.toUpperCase());
    }
  }
  if (methods.has('GET')) methods.add('HEAD');
  const allow = [...methods].sort();
  // bounded: paths carry ids, so only remember a few hundred
  if (known.size < 500) known.set(path, allow);
  return allow;
}
