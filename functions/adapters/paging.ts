/**
 * Paging of AWS List and Describe calls that answer `NextToken`. The SDK's own paginators exist per client;
 * this one lets the caller wrap each page in its own error handling and rate limiting.
 */

/** Every page of a NextToken-paged call; an empty page before the last is allowed (Organizations sends them). */
export async function allPages<Page extends { NextToken?: string | undefined }, Item>(
  fetchPage: (nextToken: string | undefined) => Promise<Page>,
  itemsOf: (page: Page) => readonly Item[] | undefined,
): Promise<Item[]> {
  const items: Item[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    items.push(...(itemsOf(page) ?? []));
    token = page.NextToken || undefined;
  } while (token);
  return items;
}
