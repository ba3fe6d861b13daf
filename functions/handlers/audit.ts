/**
 * Audit: one verdict per VPC from the snapshot and the policy; remembers verdicts to tell drift. In the final
 * pass (FinalAudit) it audits `final-snapshot` into `final`.
 */

import { type Deps, deps, runKey } from '../adapters/deps.ts';
import { audit } from '../domain/audit.ts';
import { passBlobs } from '../domain/run-blobs.ts';
import type { VerdictKind } from '../domain/verdict.ts';
import { type PassInput, PassInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

export async function auditStep(input: PassInput, d: Deps) {
  const { scope, iteration } = input;
  const blobs = passBlobs(input.final === true);
  const snapshot = await d.blobs.getBlob(runKey(scope), blobs.snapshot, iteration);
  const history = await d.history.getVerdictHistory(scope.accountId, scope.region);
  const report = audit(snapshot, d.policy, history);
  await d.blobs.putBlob(runKey(scope), blobs.audit, iteration, report);
  // A run narrowed to a few VPCs updates their history and keeps the others'.
  const verdicts: Record<string, VerdictKind> = { ...(scope.vpcIds ? history : {}) };
  for (const v of report.vpcs) verdicts[v.vpcId] = v.verdict;
  await d.history.putVerdictHistory(scope.accountId, scope.region, verdicts, {
    updatedAt: report.takenAt,
    runId: scope.runId,
  });
  const counts: Partial<Record<VerdictKind, number>> = {};
  for (const v of report.vpcs) counts[v.verdict] = (counts[v.verdict] ?? 0) + 1;
  return { counts, managedElsewhere: report.managedElsewhere };
}

export const handler = lambdaHandler('Audit', PassInputSchema, (input) => auditStep(input, deps()));
