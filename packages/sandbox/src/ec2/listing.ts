/**
 * Describe* plumbing: EC2 filters (`Filter.N.Name` / `Filter.N.Value.M`, wildcards `*` and `?`,
 * `tag:<key>`, `tag-key`, `tag-value`) and `MaxResults` / `NextToken` paging with EC2's bounds.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Filtering.html
 */
import type { Filter } from '@aws-sdk/client-ec2';
import { Ec2Error, invalidParameter } from './errors.ts';
import type { Tags } from './model.ts';

/** Values a record has for one filter name; `undefined` entries are skipped. */
export type FilterField<T> = (record: T) => string | undefined | readonly (string | undefined)[];

export interface FilterSpec<T> {
  readonly fields: Readonly<Record<string, FilterField<T>>>;
  readonly tags?: (record: T) => Tags;
}

type Matcher<T> = (record: T) => boolean;

const patterns = new Map<string, RegExp | string>();

function pattern(value: string): RegExp | string {
  let compiled = patterns.get(value);
  if (compiled === undefined) {
    compiled = /[*?]/.test(value)
      ? new RegExp(
          `^${value
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
          's',
        )
      : value;
    if (patterns.size < 10_000) {
      patterns.set(value, compiled);
    }
  }
  return compiled;
}

function anyMatches(candidates: Iterable<string | undefined>, wanted: readonly (RegExp | string)[]): boolean {
  for (const candidate of candidates) {
    if (candidate === undefined) {
      continue;
    }
    for (const p of wanted) {
      if (typeof p === 'string' ? p === candidate : p.test(candidate)) {
        return true;
      }
    }
  }
  return false;
}

/** Compiles filters once per request; an unknown filter name is InvalidParameterValue, as in EC2. */
export function compileFilters<T>(filters: readonly Filter[] | undefined, spec: FilterSpec<T>): Matcher<T>[] {
  const matchers: Matcher<T>[] = [];
  for (const filter of filters ?? []) {
    const name = filter.Name;
    if (name === undefined || name === '') {
      throw new Ec2Error('InvalidParameterValue', 'A filter must have a Name');
    }
    const wanted = (filter.Values ?? []).map(pattern);
    if (name.startsWith('tag:') && spec.tags !== undefined) {
      const key = name.slice(4);
      const tagsOf = spec.tags;
      matchers.push((r) => anyMatches([tagsOf(r).get(key)], wanted));
    } else if (name === 'tag-key' && spec.tags !== undefined) {
      const tagsOf = spec.tags;
      matchers.push((r) => anyMatches(tagsOf(r).keys(), wanted));
    } else if (name === 'tag-value' && spec.tags !== undefined) {
      const tagsOf = spec.tags;
      matchers.push((r) => anyMatches(tagsOf(r).values(), wanted));
    } else {
      const field = spec.fields[name];
      if (field === undefined) {
        throw invalidParameter(`The filter '${name}' is invalid`);
      }
      matchers.push((r) => {
        const value = field(r);
        return anyMatches(typeof value === 'string' || value === undefined ? [value] : value, wanted);
      });
    }
  }
  return matchers;
}

export function matchesAll<T>(record: T, matchers: readonly Matcher<T>[]): boolean {
  for (const matcher of matchers) {
    if (!matcher(record)) {
      return false;
    }
  }
  return true;
}

/** Values of the `vpc-id` filter, when there is one with plain values: lets a Describe start from the VPC index. */
export function vpcIdsFromFilters(
  filters: readonly Filter[] | undefined,
  name = 'vpc-id',
): string[] | undefined {
  const filter = filters?.find((f) => f.Name === name);
  if (filter?.Values === undefined || filter.Values.some((v) => /[*?]/.test(v))) {
    return undefined;
  }
  return filter.Values;
}

export interface PageBounds {
  readonly min: number;
  readonly max: number;
  /** Page size when MaxResults is absent; everything when undefined. */
  readonly defaultSize?: number;
}

export const STANDARD_BOUNDS: PageBounds = { min: 5, max: 1000 };

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

/**
 * Pages a list. The token carries the offset and the action it belongs to; a token from another action or
 * one that was tampered with is refused like EC2 refuses it.
 */
export function paginate<T>(
  items: readonly T[],
  input: { MaxResults?: number | undefined; NextToken?: string | undefined },
  bounds: PageBounds,
  scope: string,
): Page<T> {
  const max = input.MaxResults;
  if (max !== undefined && (!Number.isInteger(max) || max < bounds.min || max > bounds.max)) {
    throw invalidParameter(
      `Value ( ${max} ) for parameter maxResults is invalid. Parameter must be between ${bounds.min} and ${bounds.max}.`,
    );
  }
  let offset = 0;
  if (input.NextToken !== undefined && input.NextToken !== '') {
    offset = decodeToken(input.NextToken, scope);
  }
  const size = max ?? bounds.defaultSize ?? items.length;
  const pageItems = items.slice(offset, offset + size);
  const next = offset + size;
  return next < items.length
    ? { items: pageItems, nextToken: encodeToken(next, scope) }
    : { items: pageItems };
}

function encodeToken(offset: number, scope: string): string {
  return Buffer.from(JSON.stringify({ s: scope, o: offset })).toString('base64url');
}

function decodeToken(token: string, scope: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      s?: unknown;
      o?: unknown;
    };
    if (parsed.s === scope && typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0) {
      return parsed.o;
    }
  } catch {
    // fall through
  }
  throw new Ec2Error('InvalidPaginationToken', `The pagination token "${token.slice(0, 40)}" is invalid`);
}

/** The records a Describe call addresses: by ids (each must exist) or all, then filtered. */
export function selectResources<T>(options: {
  readonly ids: readonly string[] | undefined;
  readonly find: (id: string) => T;
  readonly all: () => Iterable<T>;
  readonly filters: readonly Filter[] | undefined;
  readonly spec: FilterSpec<T>;
}): T[] {
  const matchers = compileFilters(options.filters, options.spec);
  const candidates =
    options.ids !== undefined && options.ids.length > 0 ? options.ids.map(options.find) : [...options.all()];
  return matchers.length === 0 ? candidates : candidates.filter((r) => matchesAll(r, matchers));
}
