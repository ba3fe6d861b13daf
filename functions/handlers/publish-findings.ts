/**
 * Publish findings: one ASFF finding per verdict, reconciled with what vecguard reported before (resolve
 * what is fixed, archive what is gone). In dry-run, findings are built and counted but not imported. In the
 * final pass (FinalFindings) it publishes the `final` audit.
 */

import { type Deps, deps, runKey } from '../adapters/deps.ts';
import { publishFindings, readPreviousFindings } from '../adapters/securityhub-publisher.ts';
import { decodeFindingId } from '../domain/finding-id.ts';
import { findingsForAudit } from '../domain/findings.ts';
import type { InventorySnapshot } from '../domain/model.ts';
import { passBlobs } from '../domain/run-blobs.ts';
import { type PassInput, PassInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

export function liveResourceIds(snapshot: InventorySnapshot): Set<string> {
  return new Set([
    ...snapshot.vpcs.map((v) => v.vpcId),
    ...snapshot.transitGateways.map((t) => t.transitGatewayId),
    ...snapshot.peeringConnections.map((p) => p.peeringConnectionId),
  ]);
}

export async function publishFindingsStep(input: PassInput, d: Deps) {
  const { scope, iteration } = input;
  const blobs = passBlobs(input.final === true);
  const report = await d.blobs.getBlob(runKey(scope), blobs.audit, iteration);
  const snapshot = await d.blobs.getBlob(runKey(scope), blobs.snapshot, iteration);
  const client = await d.securityHubFor(scope);
  const live = liveResourceIds(snapshot);
  let { findings: previous } = await readPreviousFindings(client, scope.accountId, scope.region);
  // A run narrowed to some VPCs must not resolve or archive what it did not look at.
  if (scope.vpcIds) previous = previous.filter((f) => live.has(decodeFindingId(f.Id)?.resourceId ?? ''));
  const findings = findingsForAudit(report, previous);
  if (d.dryRun)
    return { imported: 0, wouldImport: findings.length, failed: [], resolved: 0, archived: 0, dryRun: true };
  const result = await publishFindings({
    client,
    accountId: scope.accountId,
    region: scope.region,
    findings,
    previous,
    takenAt: report.takenAt,
    liveResourceIds: live,
  });
  return {
    imported: result.imported,
    failed: result.failed.slice(0, 20),
    failedCount: result.failed.length,
    resolved: result.resolved,
    archived: result.archived,
    dryRun: false,
  };
}

export const handler = lambdaHandler('PublishFindings', PassInputSchema, (input) =>
  publishFindingsStep(input, deps()),
);
