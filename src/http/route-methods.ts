// Which methods a path is routed for. A path the API routes only for other methods is answered
// 405 with Allow (RFC 9110 section 15.5.6), not 404: `PUT /calendar/events` names a resource that
// exists. Fastify's own router answers only "this method, this path", so the routes are mirrored,
// as they are added, into a second instance of the same router library (find-my-way, with the
// same path options), which is asked for each method.
import FindMyWay from 'find-my-way';

export class RouteMethods {
  readonly #router;
  readonly #methods = new Set<string>();
  readonly #added = new Set<string>();

  constructor(options: { ignoreTrailingSlash: boolean; ignoreDuplicateSlashes: boolean; maxParamLength: number }) {
    this.#router = FindMyWay(options);
  }

  add(methods: string | string[], url: string): void {
    for (const method of [methods].flat()) {
      // Fastify adds HEAD for every GET; the same route reaches the hook once per method.
      const key = `${method} ${url}`;
      if (this.#added.has(key)) continue;
      this.#added.add(key);
      this.#methods.add(method);
      this.#router.on(method as 'GET', url, () => undefined, { url });
    }
  }

  /**
   * The methods the path (without its query) is routed for, sorted, and the routes (as declared)
   * that take it; both empty for a path no route has. The router reads the path as Fastify does
   * (percent-decoded, an absolute-form target's path), so its routes, not the raw target, say
   * whether the path is under the API.
   */
  allowed(path: string): { methods: string[]; routes: string[] } {
    const methods: string[] = [];
    const routes = new Set<string>();
    for (const method of this.#methods) {
      const found = this.#router.find(method as 'GET', path);
      if (found === null) continue;
      methods.push(method);
      routes.add((found.store as { url: string }).url);
    }
    return { methods: methods.sort(), routes: [...routes] };
  }
}
