/**
 * The canary crawl's engine: visits every readable route of a running server
 * as one viewer, filling each path and query parameter with every value the
 * test knows for its kind, and following pagination (`Link: rel="next"` and
 * `rel="prev"` on the client API, `first`/`next` on ActivityStreams collections).
 *
 * It knows nothing of Clique's route list (the testing package never imports
 * the server): routes come in as plain data of the same shape, and the
 * viewer is whatever `fetch` the test hands in (a bearer token, a signature,
 * nothing). The test then searches the bodies for its canaries.
 */

/** A route as the server's route list describes it (`http/routes.ts`). */
export interface CrawlRoute {
  method: string;
  /** Hono-style template: `/api/v1/statuses/:id`. */
  path: string;
  /** What each `:param` stands for, in order. */
  params?: readonly string[];
  /** Query parameters to add, by the kind of value they take. */
  query?: Readonly<Record<string, string>>;
  /** Served by the federation (ActivityStreams pagination) rather than the API. */
  federation?: boolean;
}

/** What one request answered. */
export interface CrawlResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** How the viewer asks: one GET of an absolute URL. */
export type CrawlFetch = (url: string) => Promise<CrawlResponse>;

/** One request the crawl made. */
export interface Visit {
  /** The route it belongs to, as `GET /template`. */
  route: string;
  url: string;
  status: number;
  body: string;
  /** 0 for the URL made from the route, 1 and more for pages followed from it. */
  page: number;
}

/** What to crawl, and how. */
export interface CrawlPlan {
  /** Where the server answers (`http://127.0.0.1:PORT`). */
  origin: string;
  /** Only the GET routes are visited. */
  routes: readonly CrawlRoute[];
  /** Every value to try for a path parameter of this kind on this route. */
  paramValues(kind: string, route: CrawlRoute): readonly string[];
  /** Every value to try for a listed query parameter of this kind on this route. */
  queryValues(kind: string, route: CrawlRoute): readonly string[];
  /** More query strings (`a=1&b=2`) to try on a route, besides the listed ones. */
  extraQueries?(route: CrawlRoute): readonly string[];
  fetch: CrawlFetch;
  /** Pages followed from one starting URL (default 50); a crawl that needs more fails. */
  maxPages?: number;
  /** Requests in flight at once (default 6). */
  concurrency?: number;
}

/** `GET /template`: how routes are named in visits and coverage checks. */
export function routeKey(route: Pick<CrawlRoute, "method" | "path">): string {
  return `${route.method} ${route.path}`;
}

/** Every starting URL for a route: the cartesian product of its parameter values. */
export function expandRoute(route: CrawlRoute, plan: CrawlPlan): string[] {
  // A parameter may carry a Hono pattern (`/:username{@[A-Za-z0-9_]+}`): the value replaces both.
  const slots = route.path.match(/:[A-Za-z_]+(?:\{[^}]*\})?/g) ?? [];
  const kinds = route.params ?? [];
  if (slots.length !== kinds.length)
    throw new Error(`${routeKey(route)} has ${slots.length} parameters but names ${kinds.length}`);
  let paths = [route.path];
  slots.forEach((slot, i) => {
    const values = plan.paramValues(kinds[i]!, route);
    if (values.length === 0)
      throw new Error(`no values for parameter ${slot} (${kinds[i]}) of ${routeKey(route)}`);
    // `@` may stand unencoded in a path segment (RFC 3986's pchar): profile pages are `/@name`.
    paths = paths.flatMap((p) =>
      values.map((v) => p.replace(slot, encodeURIComponent(v).replaceAll("%40", "@"))),
    );
  });
  let queries = [new URLSearchParams()];
  for (const [name, kind] of Object.entries(route.query ?? {})) {
    const values = plan.queryValues(kind, route);
    if (values.length === 0)
      throw new Error(`no values for query ${name} (${kind}) of ${routeKey(route)}`);
    queries = queries.flatMap((q) =>
      values.map((v) => {
        const next = new URLSearchParams(q);
        next.set(name, v);
        return next;
      }),
    );
  }
  const urls: string[] = [];
  for (const path of paths) {
    for (const query of queries) {
      const text = query.toString();
      urls.push(`${plan.origin}${path}${text ? `?${text}` : ""}`);
    }
    for (const extra of plan.extraQueries?.(route) ?? [])
      urls.push(`${plan.origin}${path}?${extra}`);
  }
  return urls;
}

/** The targets of a `Link` header whose `rel` is one of `rels` (Mastodon's `next` and `prev`). */
export function linksFromHeader(
  header: string | null,
  rels: readonly string[] = ["next", "prev"],
): string[] {
  if (!header) return [];
  const links: string[] = [];
  for (const part of header.split(/,\s*(?=<)/)) {
    const m = /^<([^>]+)>\s*;(.*)$/.exec(part.trim());
    const rel = m ? /\brel\s*=\s*(?:"([^"]*)"|([^\s;]+))/.exec(m[2]!) : null;
    const names = (rel?.[1] ?? rel?.[2] ?? "").split(/\s+/);
    if (m && names.some((name) => rels.includes(name))) links.push(m[1]!);
  }
  return links;
}

/** The pages an ActivityStreams collection (or collection page) points to: `first`, `next`. */
export function nextFromCollection(body: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return [];
  }
  if (!json || typeof json !== "object") return [];
  const links: string[] = [];
  const take = (value: unknown) => {
    if (typeof value === "string") links.push(value);
    else if (value && typeof value === "object") {
      const object = value as Record<string, unknown>;
      // An embedded first page: its items are in this body already; follow its `next`.
      if (typeof object.next === "string") links.push(object.next);
      else if (typeof object.id === "string" && !("orderedItems" in object || "items" in object))
        links.push(object.id);
    }
  };
  const object = json as Record<string, unknown>;
  take(object.first);
  take(object.next);
  return links;
}

/**
 * Visits every GET route of the plan as its viewer. Pages are followed only
 * on the plan's origin; each URL is requested once.
 */
export async function crawl(plan: CrawlPlan): Promise<Visit[]> {
  const maxPages = plan.maxPages ?? 50;
  const origin = new URL(plan.origin).origin;
  const seen = new Set<string>();
  const visits: Visit[] = [];
  const queue: { route: string; url: string; page: number; federation: boolean }[] = [];
  for (const route of plan.routes) {
    if (route.method !== "GET") continue;
    for (const url of expandRoute(route, plan)) {
      queue.push({ route: routeKey(route), url, page: 0, federation: route.federation ?? false });
    }
  }

  async function visit(item: (typeof queue)[number]): Promise<void> {
    if (seen.has(item.url)) return;
    seen.add(item.url);
    const response = await plan.fetch(item.url);
    visits.push({
      route: item.route,
      url: item.url,
      status: response.status,
      body: response.body,
      page: item.page,
    });
    if (response.status < 200 || response.status >= 300) return;
    const next = item.federation
      ? nextFromCollection(response.body)
      : linksFromHeader(response.headers.get("link"));
    for (const link of next) {
      const url = new URL(link, item.url);
      if (url.origin !== origin || seen.has(url.href)) continue;
      if (item.page + 1 > maxPages)
        throw new Error(`more than ${maxPages} pages from ${item.route}: is pagination looping?`);
      queue.push({ ...item, url: url.href, page: item.page + 1 });
    }
  }

  // A small pool: pages are queued as they are found, so workers pull until the queue is empty.
  const workers = Array.from({ length: plan.concurrency ?? 6 }, async () => {
    for (let item = queue.shift(); item; item = queue.shift()) await visit(item);
  });
  await Promise.all(workers);
  return visits;
}

/** Which of `tokens` occur in `text`. */
export function tokensIn(text: string, tokens: Iterable<string>): string[] {
  return [...tokens].filter((token) => text.includes(token));
}
