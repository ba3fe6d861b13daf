/**
 * The blobs a run keeps between its steps (docs/loop.md, "The store"), each name with the schema of what is
 * stored under it. One step writes a blob and another reads it back in another Lambda, so the read parses it
 * with this schema rather than trusting it: a blob written by an older version, or by a bug, is an error that
 * names the blob instead of a wrong verdict three steps later.
 */
import type { z } from 'zod';
import { InventorySnapshotSchema } from './model.ts';
import { RunSummarySchema } from './run-summary.ts';
import { AuditReportSchema } from './verdict.ts';
import { StoredPlanSchema } from './work-groups.ts';

export const RUN_BLOB_SCHEMAS = {
  /** Inventory's read of the scope, per iteration. */
  snapshot: InventorySnapshotSchema,
  /** Audit's verdicts on that snapshot, per iteration. */
  audit: AuditReportSchema,
  /** Plan's remediation plan and its work groups, per iteration. */
  plan: StoredPlanSchema,
  /** The scope read again after the last change, when something was applied after the last audit. */
  'final-snapshot': InventorySnapshotSchema,
  /** The audit of `final-snapshot`. */
  final: AuditReportSchema,
  /** Report's run summary (iteration 0). */
  report: RunSummarySchema,
} as const;

export type RunBlobName = keyof typeof RUN_BLOB_SCHEMAS;
/** What reading the blob `N` gives. */
export type RunBlob<N extends RunBlobName> = z.infer<(typeof RUN_BLOB_SCHEMAS)[N]>;

/**
 * The snapshot and audit blobs of one pass of Inventory → Audit → PublishFindings: an iteration's, or the
 * final pass that reads the estate again after the last change (docs/loop.md, "States").
 */
export function passBlobs(final: boolean) {
  return final
    ? ({ snapshot: 'final-snapshot', audit: 'final' } as const)
    : ({ snapshot: 'snapshot', audit: 'audit' } as const);
}
