/**
 * `GetFindings` filters (`AwsSecurityFindingFilters`), for the fields vecguard and its users filter on.
 *
 * Semantics, from the Security Hub API reference (StringFilter): on one field, positive filters (EQUALS,
 * PREFIX, CONTAINS) are joined by OR and negative ones (NOT_EQUALS, PREFIX_NOT_EQUALS, NOT_CONTAINS) by AND;
 * PREFIX may be combined with NOT_EQUALS / PREFIX_NOT_EQUALS (positives first, then negatives); EQUALS may
 * not be combined with NOT_EQUALS or PREFIX_NOT_EQUALS, and CONTAINS / NOT_CONTAINS only with themselves.
 * Different fields are joined by AND. A field with several values (ResourceId, Type) matches a positive
 * filter when any value does, and a negative filter when no value does.
 * https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_StringFilter.html
 * https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_DateFilter.html
 */
import { parseAsffTimestamp } from './asff.ts';

type Finding = Record<string, unknown>;

export class FilterError extends Error {
  override readonly name = 'FilterError';
}

interface StringFilter {
  readonly Value?: string;
  readonly Comparison?: string;
}

interface MapFilter extends StringFilter {
  readonly Key?: string;
}

interface DateFilter {
  readonly Start?: string;
  readonly End?: string;
  readonly DateRange?: { readonly Value?: number; readonly Unit?: string };
}

function get(finding: Finding, path: string): unknown {
  let node: unknown = finding;
  for (const segment of path.split('.')) {
    if (typeof node !== 'object' || node === null) {
      return undefined;
    }
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

function scalar(path: string): (finding: Finding) => string[] {
  return (finding) => {
    const value = get(finding, path);
    return value === undefined || value === null ? [] : [String(value)];
  };
}

function resources(property: string): (finding: Finding) => string[] {
  return (finding) =>
    Array.isArray(finding.Resources)
      ? finding.Resources.map((r) => (r as Record<string, unknown>)[property]).filter(
          (v) => typeof v === 'string',
        )
      : [];
}

/** The string fields the sandbox can filter on, and where each lives in a finding. */
const STRING_FIELDS: Readonly<Record<string, (finding: Finding) => string[]>> = {
  Id: scalar('Id'),
  ProductArn: scalar('ProductArn'),
  GeneratorId: scalar('GeneratorId'),
  AwsAccountId: scalar('AwsAccountId'),
  Region: scalar('Region'),
  Title: scalar('Title'),
  Description: scalar('Description'),
  CompanyName: scalar('CompanyName'),
  ProductName: scalar('ProductName'),
  RecordState: scalar('RecordState'),
  ComplianceStatus: scalar('Compliance.Status'),
  WorkflowStatus: scalar('Workflow.Status'),
  WorkflowState: scalar('WorkflowState'),
  SeverityLabel: scalar('Severity.Label'),
  VerificationState: scalar('VerificationState'),
  ResourceId: resources('Id'),
  ResourceType: resources('Type'),
  ResourceRegion: resources('Region'),
  ResourcePartition: resources('Partition'),
  Type: (finding) => (Array.isArray(finding.Types) ? finding.Types.map(String) : []),
};

const MAP_FIELDS: Readonly<Record<string, string>> = {
  ProductFields: 'ProductFields',
  UserDefinedFields: 'UserDefinedFields',
  ResourceTags: 'Resources',
};

const DATE_FIELDS: Readonly<Record<string, string>> = {
  CreatedAt: 'CreatedAt',
  UpdatedAt: 'UpdatedAt',
  FirstObservedAt: 'FirstObservedAt',
  LastObservedAt: 'LastObservedAt',
  ProcessedAt: 'ProcessedAt',
  NoteUpdatedAt: 'Note.UpdatedAt',
};

const POSITIVE = new Set(['EQUALS', 'PREFIX', 'CONTAINS']);
const NEGATIVE = new Set(['NOT_EQUALS', 'PREFIX_NOT_EQUALS', 'NOT_CONTAINS']);

function compare(comparison: string, candidate: string, value: string): boolean {
  switch (comparison) {
    case 'EQUALS':
    case 'NOT_EQUALS':
      return candidate === value;
    case 'PREFIX':
    case 'PREFIX_NOT_EQUALS':
      return candidate.startsWith(value);
    default:
      return candidate.includes(value);
  }
}

function checkCombination(field: string, comparisons: Set<string>): void {
  const has = (c: string) => comparisons.has(c);
  if (has('EQUALS') && (has('NOT_EQUALS') || has('PREFIX_NOT_EQUALS'))) {
    throw new FilterError(`Filter ${field} cannot combine EQUALS with NOT_EQUALS or PREFIX_NOT_EQUALS`);
  }
  if (has('CONTAINS') && comparisons.size > 1) {
    throw new FilterError(`Filter ${field} can combine CONTAINS only with other CONTAINS filters`);
  }
  if (has('NOT_CONTAINS') && comparisons.size > 1) {
    throw new FilterError(`Filter ${field} can combine NOT_CONTAINS only with other NOT_CONTAINS filters`);
  }
}

/** One field's string filters as a predicate over the field's values. */
function stringPredicate(field: string, filters: readonly StringFilter[]): (values: string[]) => boolean {
  const comparisons = new Set<string>();
  for (const filter of filters) {
    const comparison = filter.Comparison ?? '';
    if (!POSITIVE.has(comparison) && !NEGATIVE.has(comparison)) {
      throw new FilterError(`Invalid Comparison '${comparison}' for filter ${field}`);
    }
    if (typeof filter.Value !== 'string') {
      throw new FilterError(`Filter ${field} needs a Value`);
    }
    comparisons.add(comparison);
  }
  checkCombination(field, comparisons);
  const positives = filters.filter((f) => POSITIVE.has(f.Comparison ?? ''));
  const negatives = filters.filter((f) => NEGATIVE.has(f.Comparison ?? ''));
  return (values) =>
    (positives.length === 0 ||
      positives.some((f) => values.some((v) => compare(f.Comparison ?? '', v, f.Value ?? '')))) &&
    negatives.every((f) => !values.some((v) => compare(f.Comparison ?? '', v, f.Value ?? '')));
}

function datePredicate(
  field: string,
  filters: readonly DateFilter[],
  now: number,
): (value: unknown) => boolean {
  const ranges = filters.map((filter) => {
    if (filter.DateRange !== undefined) {
      if (filter.DateRange.Unit !== 'DAYS' || typeof filter.DateRange.Value !== 'number') {
        throw new FilterError(`Filter ${field}: DateRange needs a Value and Unit DAYS`);
      }
      return { start: now - filter.DateRange.Value * 86_400_000, end: now };
    }
    const start = filter.Start === undefined ? -Infinity : parseAsffTimestamp(filter.Start);
    const end = filter.End === undefined ? Infinity : parseAsffTimestamp(filter.End);
    if (start === undefined || end === undefined) {
      throw new FilterError(`Filter ${field}: Start and End must be ISO 8601 timestamps`);
    }
    return { start, end };
  });
  return (value) => {
    const at = parseAsffTimestamp(value);
    return at !== undefined && ranges.some((r) => at >= r.start && at <= r.end);
  };
}

/** Compiles `Filters` into one predicate; throws `FilterError` for what Security Hub would reject. */
export function compileFilters(
  filters: Readonly<Record<string, unknown>> | undefined,
  now: number,
): (f: Finding) => boolean {
  const predicates: Array<(finding: Finding) => boolean> = [];
  for (const [field, raw] of Object.entries(filters ?? {})) {
    if (raw === undefined || raw === null) {
      continue;
    }
    if (!Array.isArray(raw)) {
      throw new FilterError(`Filter ${field} must be a list`);
    }
    if (raw.length === 0) {
      continue;
    }
    const extract = STRING_FIELDS[field];
    if (extract !== undefined) {
      const matches = stringPredicate(field, raw as StringFilter[]);
      predicates.push((finding) => matches(extract(finding)));
      continue;
    }
    const mapPath = MAP_FIELDS[field];
    if (mapPath !== undefined) {
      const byKey = new Map<string, MapFilter[]>();
      for (const filter of raw as MapFilter[]) {
        if (typeof filter.Key !== 'string') {
          throw new FilterError(`Filter ${field} needs a Key`);
        }
        byKey.set(filter.Key, [...(byKey.get(filter.Key) ?? []), filter]);
      }
      for (const [key, keyFilters] of byKey) {
        const matches = stringPredicate(`${field}.${key}`, keyFilters);
        predicates.push((finding) => {
          const maps = mapPath === 'Resources' ? resourceTagMaps(finding) : [get(finding, mapPath)];
          const values = maps.flatMap((m) => {
            const v = typeof m === 'object' && m !== null ? (m as Record<string, unknown>)[key] : undefined;
            return typeof v === 'string' ? [v] : [];
          });
          return matches(values);
        });
      }
      continue;
    }
    const datePath = DATE_FIELDS[field];
    if (datePath !== undefined) {
      const matches = datePredicate(field, raw as DateFilter[], now);
      predicates.push((finding) => matches(get(finding, datePath)));
      continue;
    }
    throw new FilterError(`The sandbox does not support the GetFindings filter ${field}`);
  }
  return (finding) => predicates.every((p) => p(finding));
}

function resourceTagMaps(finding: Finding): unknown[] {
  return Array.isArray(finding.Resources)
    ? finding.Resources.map((r) => (r as Record<string, unknown>).Tags)
    : [];
}

/** Sorts in place by `SortCriteria` (`Field` a dotted path, `SortOrder` asc|desc); stable. */
export function sortFindings(
  findings: Finding[],
  criteria: readonly { Field?: string; SortOrder?: string }[] | undefined,
): Finding[] {
  if (criteria === undefined || criteria.length === 0) {
    return findings;
  }
  for (const criterion of criteria) {
    if (
      criterion.SortOrder !== undefined &&
      criterion.SortOrder !== 'asc' &&
      criterion.SortOrder !== 'desc'
    ) {
      throw new FilterError(`Invalid SortOrder '${criterion.SortOrder}'`);
    }
  }
  return findings.sort((a, b) => {
    for (const { Field, SortOrder } of criteria) {
      if (Field === undefined) {
        continue;
      }
      const x = get(a, Field);
      const y = get(b, Field);
      const order =
        typeof x === 'number' && typeof y === 'number'
          ? x - y
          : String(x ?? '').localeCompare(String(y ?? ''));
      if (order !== 0) {
        return SortOrder === 'desc' ? -order : order;
      }
    }
    return 0;
  });
}
