/** Inventory: read the scope's VPCs, controls, blockers and neighbours; store the snapshot. */

import { type Deps, deps, runKey } from '../adapters/deps.ts';
import { readInventory } from '../adapters/inventory.ts';
import { type StepInput, StepInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

export async function inventory(input: StepInput, d: Deps) {
  const { scope, iteration } = input;
  const ec2 = await d.ec2For(scope);
  const snapshot = await readInventory(ec2, {
    accountId: scope.accountId,
    region: scope.region,
    takenAt: d.now().toISOString(),
    // Where the account sits in the organisation, so that the audit matches OU targets.
    organizationalUnitIds: scope.organizationalUnitIds,
    ...(scope.vpcIds ? { vpcIds: scope.vpcIds } : {}),
  });
  await d.blobs.putBlob(runKey(scope), 'snapshot', iteration, snapshot);
  return {
    iteration,
    vpcCount: snapshot.vpcs.length,
    snapshotAt: snapshot.takenAt,
    ec2Calls: ec2.stats.total,
  };
}

export const handler = lambdaHandler('Inventory', StepInputSchema, (input) => inventory(input, deps()));
