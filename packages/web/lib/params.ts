/**
 * A page's query as single strings. Next types `searchParams` as the page
 * declares it, but a repeated parameter (`?tab=a&tab=b`) arrives as an array:
 * the first value counts, so no page trips over one.
 */
export async function single<T extends Record<string, string | undefined>>(
  params: Promise<T>,
): Promise<T> {
  const raw = (await params) as Record<string, string | string[] | undefined>;
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(raw))
    out[key] = Array.isArray(value) ? value[0] : value;
  return out as T;
}
