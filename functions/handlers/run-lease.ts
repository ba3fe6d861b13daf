/**
 * What Report and FailureReport do with the scope's lease when a run ends (functions/adapters/run-lease.ts):
 * logged, so that a follow-up run can be traced to the run that started it.
 */
import type { Deps } from '../adapters/deps.ts';
import { endOfRun } from '../adapters/run-lease.ts';
import { ScopeLeaseStore } from '../adapters/store/scope-leases.ts';
import { logger } from '../shared/powertools.ts';
import type { Scope } from './inputs.ts';

export async function endRunLease(scope: Scope, d: Deps) {
  const ended = await endOfRun(scope, {
    leases: new ScopeLeaseStore(d.table),
    sfn: d.sfn,
    stateMachineArn: d.config.stateMachineArn,
    settings: { policy: d.policy },
    now: d.now,
  });
  if (ended.lease === 'handed-over') {
    logger.info('scope handed to a follow-up run for the VPCs events named meanwhile', {
      runId: scope.runId,
      followUp: ended.followUp,
      wholeScope: ended.pending.wholeScope,
      vpcCount: ended.pending.vpcIds.length,
    });
  }
  return ended;
}
