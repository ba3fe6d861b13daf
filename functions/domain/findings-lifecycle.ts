/**
 * A run's findings against the previous run's (docs/design.md §4): what to import so that Security Hub shows the
 * estate as it is now — updated, resolved (PASSED) or archived (resource gone) — and how to split that into
 * BatchImportFindings calls.
 */

import {
  ASFF_LIMITS,
  BATCH_IMPORT_LIMITS,
  type Finding,
  jsonByteLength,
  nextUpdatedAt,
  toIso,
  truncateText,
} from './asff.ts';
import { InvalidInputError } from './errors.ts';
import { FINDING_ID_PREFIX, findingResourceId, PRODUCT_FIELD } from './findings.ts';

export interface ReconcileContext {
  readonly takenAt: string;
  /**
   * Ids (`vpc-…`, `tgw-…`, `pcx-…`, or the resource ARNs) of the resources that still exist. Absent: existence
   * is unknown, and a finding that is not produced again is resolved, never archived.
   */
  readonly liveResourceIds?: ReadonlySet<string>;
}

export interface Reconciliation {
  /** What to send to BatchImportFindings (see `batchFindings`). */
  readonly toImport: Finding[];
  /** Ids of previous findings resolved now: not produced again, resource still there. */
  readonly resolvedIds: string[];
  /** Ids of previous findings archived now: their resource is gone. */
  readonly archivedIds: string[];
}

function withProductField(
  fields: Finding['ProductFields'],
  key: string,
  value: string,
): Record<string, string> {
  const next = { ...(fields ?? {}) };
  if (key in next || Object.keys(next).length < ASFF_LIMITS.productFields) next[key] = value;
  return next;
}

function resolve(previous: Finding, takenAt: string): Finding {
  const severity = { Label: 'INFORMATIONAL' as const, Original: 'RESOLVED' };
  return {
    ...previous,
    UpdatedAt: nextUpdatedAt(takenAt, previous.UpdatedAt),
    Title: truncateText(`Resolved: ${previous.Title}`, ASFF_LIMITS.titleLength),
    Description: truncateText(
      `Resolved ${takenAt}: vecguard no longer reports this problem. Before: ${previous.Description}`,
      ASFF_LIMITS.descriptionLength,
    ),
    Severity: severity,
    FindingProviderFields: { ...previous.FindingProviderFields, Severity: severity },
    Compliance: {
      Status: 'PASSED',
      StatusReasons: [
        {
          ReasonCode: 'RESOLVED',
          Description: `The resource still exists and vecguard no longer reports this problem (run at ${takenAt}).`,
        },
      ],
    },
    ProductFields: withProductField(previous.ProductFields, PRODUCT_FIELD.resolvedAt, takenAt),
    RecordState: 'ACTIVE',
  };
}

function archive(previous: Finding, takenAt: string): Finding {
  return {
    ...previous,
    UpdatedAt: nextUpdatedAt(takenAt, previous.UpdatedAt),
    Description: truncateText(
      `Archived ${takenAt}: the resource no longer exists. ${previous.Description}`,
      ASFF_LIMITS.descriptionLength,
    ),
    ProductFields: withProductField(previous.ProductFields, PRODUCT_FIELD.archivedAt, takenAt),
    RecordState: 'ARCHIVED',
  };
}

function isLive(finding: Finding, live: ReadonlySet<string> | undefined): boolean {
  if (live === undefined) return true;
  const resourceId = findingResourceId(finding);
  const arn = finding.Resources[0]?.Id;
  return (resourceId !== undefined && live.has(resourceId)) || (arn !== undefined && live.has(arn));
}

/**
 * Decide what to import this run, from the findings built now and the ones imported before (for the same
 * account and Region):
 * - every current finding, with `UpdatedAt` strictly after the previous one's and CreatedAt/FirstObservedAt
 *   carried over, and ACTIVE (a finding archived earlier comes back when its problem does);
 * - a previous finding not produced again whose resource still exists: resolved (PASSED, still ACTIVE);
 * - a previous finding whose resource is gone: ARCHIVED;
 * - a previous finding already archived, or already resolved by vecguard and still there: not sent again.
 * Previous findings whose Id does not start with `vecguard/` are never touched.
 */
export function reconcileFindings(
  current: readonly Finding[],
  previous: readonly Finding[],
  ctx: ReconcileContext,
): Reconciliation {
  const takenAt = toIso(ctx.takenAt, 'takenAt');
  const previousById = new Map(previous.map((f) => [f.Id, f]));
  const currentIds = new Set<string>();
  const toImport: Finding[] = [];

  for (const finding of current) {
    if (currentIds.has(finding.Id)) {
      throw new InvalidInputError(
        `two current findings share the Id ${finding.Id}: one verdict per resource`,
      );
    }
    currentIds.add(finding.Id);
    const prev = previousById.get(finding.Id);
    toImport.push(
      prev
        ? {
            ...finding,
            CreatedAt: prev.CreatedAt,
            FirstObservedAt: prev.FirstObservedAt ?? prev.CreatedAt,
            UpdatedAt: nextUpdatedAt(finding.UpdatedAt, prev.UpdatedAt),
            RecordState: 'ACTIVE',
          }
        : finding,
    );
  }

  const resolvedIds: string[] = [];
  const archivedIds: string[] = [];
  const handled = new Set<string>();
  for (const prev of previous) {
    if (currentIds.has(prev.Id) || handled.has(prev.Id) || !prev.Id.startsWith(FINDING_ID_PREFIX)) continue;
    handled.add(prev.Id);
    if (prev.RecordState === 'ARCHIVED') continue;
    if (!isLive(prev, ctx.liveResourceIds)) {
      toImport.push(archive(prev, takenAt));
      archivedIds.push(prev.Id);
      continue;
    }
    const alreadyResolved =
      prev.Compliance?.Status === 'PASSED' && prev.ProductFields?.[PRODUCT_FIELD.resolvedAt] !== undefined;
    if (alreadyResolved) continue;
    toImport.push(resolve(prev, takenAt));
    resolvedIds.push(prev.Id);
  }
  return { toImport, resolvedIds, archivedIds };
}

// ---------------------------------------------------------------------------------------------------------
// Batching

export interface BatchLimits {
  /** 1–100. */
  readonly maxCount?: number;
  /** Bytes of the request body `{"Findings":[…]}`; at most 6 MB. */
  readonly maxBytes?: number;
}

const ENVELOPE_BYTES = jsonByteLength({ Findings: [] });

/**
 * Split findings into BatchImportFindings calls: 1–100 findings and at most `maxBytes` of JSON each, in order.
 * No empty batch is ever returned.
 */
export function batchFindings(findings: readonly Finding[], limits: BatchLimits = {}): Finding[][] {
  const maxCount = limits.maxCount ?? BATCH_IMPORT_LIMITS.maxCount;
  const maxBytes = limits.maxBytes ?? BATCH_IMPORT_LIMITS.maxBytes;
  if (!Number.isInteger(maxCount) || maxCount < 1 || maxCount > BATCH_IMPORT_LIMITS.maxCount) {
    throw new InvalidInputError(
      `maxCount must be an integer from 1 to ${BATCH_IMPORT_LIMITS.maxCount}, got ${maxCount}`,
    );
  }
  if (!Number.isFinite(maxBytes) || maxBytes <= ENVELOPE_BYTES || maxBytes > BATCH_IMPORT_LIMITS.maxBytes) {
    throw new InvalidInputError(
      `maxBytes must be more than ${ENVELOPE_BYTES} and at most ${BATCH_IMPORT_LIMITS.maxBytes}, got ${maxBytes}`,
    );
  }
  const batches: Finding[][] = [];
  let batch: Finding[] = [];
  let bytes = ENVELOPE_BYTES;
  for (const finding of findings) {
    const size = jsonByteLength(finding);
    if (ENVELOPE_BYTES + size > maxBytes) {
      throw new InvalidInputError(
        `finding ${finding.Id} is ${size} bytes: it cannot fit a ${maxBytes}-byte call`,
      );
    }
    const added = batch.length === 0 ? size : size + 1; // the comma between findings
    if (batch.length === maxCount || bytes + added > maxBytes) {
      batches.push(batch);
      batch = [];
      bytes = ENVELOPE_BYTES;
    }
    bytes += batch.length === 0 ? size : size + 1;
    batch.push(finding);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
