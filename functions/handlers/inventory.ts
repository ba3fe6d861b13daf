/**
 * Inventory: read the scope's VPCs, controls, blockers and neighbours; store the snapshot. In the final pass
 * (FinalInventory), only when something was applied after the last audit: otherwise that audit still says
 * where the estate is, and the scope is not read again.
 */

import { type Deps, deps, runKey } from '../adapters/deps.ts';
import { readInventory } from '../adapters/inventory.ts';
import { closeEarlierRunsIntents } from '../adapters/run-changes.ts';
import { passBlobs } from '../domain/run-blobs.ts';
import { needsFreshAudit } from '../domain/run-summary.ts';
import { type PassInput, PassInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

/** Whether this run applied anything after the audit of the iteration before `iteration`. */
async function changedSinceLastAudit(input: PassInput, d: Deps): Promise<boolean> {
  const { scope, iteration } = input;
  const last = iteration > 0 ? await d.blobs.findBlob(runKey(scope), 'audit', iteration - 1) : undefined;
  const attempts = last
    ? await d.auditLog.listAuditEntries(scope.accountId, scope.region, { since: last.takenAt })
    : [];
  return needsFreshAudit(last, attempts, scope.runId);
}

export async function inventory(input: PassInput, d: Deps) {
  const { scope, iteration } = input;
  const final = input.final === true;
  if (final && !(await changedSinceLastAudit(input, d))) return { iteration, fresh: false };
  // Before this run changes anything: what an earlier run left unrecorded is read back and recorded now.
  const earlierClosed = iteration === 0 && !final && !d.dryRun ? await closeEarlierRunsIntents(d, scope) : 0;
  const ec2 = await d.ec2For(scope);
  const snapshot = await readInventory(ec2, {
    accountId: scope.accountId,
    region: scope.region,
    takenAt: d.now().toISOString(),
    // Where the account sits in the organisation, so that the audit matches OU targets.
    organizationalUnitIds: scope.organizationalUnitIds,
    ...(scope.vpcIds ? { vpcIds: scope.vpcIds } : {}),
  });
  await d.blobs.putBlob(runKey(scope), passBlobs(final).snapshot, iteration, snapshot);
  return {
    iteration,
    fresh: true,
    vpcCount: snapshot.vpcs.length,
    snapshotAt: snapshot.takenAt,
    ec2Calls: ec2.stats.total,
    ...(earlierClosed > 0 ? { earlierIntentsClosed: earlierClosed } : {}),
  };
}

export const handler = lambdaHandler('Inventory', PassInputSchema, (input) => inventory(input, deps()));
