/**
 * Plan: the remediation plan for the scope, then the work for this iteration grouped by VPC (or Transit
 * Gateway) and paged. What a person already answered in this run is not asked again.
 */

import { budgetOwner, changeCaps, type Deps, deps, runKey } from '../adapters/deps.ts';
import type { Approval } from '../adapters/store/approvals.ts';
import { actionDigests } from '../domain/approval-digest.ts';
import { plan } from '../domain/planner.ts';
import { pageCount, type StoredPlan, workGroups } from '../domain/work-groups.ts';
import { type StepInput, StepInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

/**
 * What people answered earlier in this run: each approved action with the digests it was approved under
 * (an approval binds to what it showed, not to the id), and the ids rejected or left to expire (a refusal
 * stands for the id whatever it then does: nothing is applied, and nobody is asked twice).
 */
export async function runDecisions(d: Deps, scope: StepInput['scope']) {
  const approvals = await d.approvals.listForRun(scope.runId, scope);
  const refusedActionIds = new Set(
    approvals.filter((a) => a.status === 'rejected' || a.status === 'expired').flatMap((a) => a.actionIds),
  );
  return { approvals, approvedDigests: approvedDigestsOf(approvals), refusedActionIds };
}

/** Action id → the digests a person approved it under, over the given approvals (those approved by someone). */
export function approvedDigestsOf(approvals: readonly Approval[]): Map<string, Set<string>> {
  const approved = new Map<string, Set<string>>();
  for (const a of approvals) {
    if (a.status !== 'approved' || !a.decidedBy) continue;
    for (const action of a.actions) {
      // Stored before approvals carried digests: binds nothing, so it is asked again.
      if (action.digest === undefined) continue;
      approved.set(action.actionId, (approved.get(action.actionId) ?? new Set()).add(action.digest));
    }
  }
  return approved;
}

/**
 * What the run's and its sweep's caps leave (store/change-budget.ts). A dry run reserves nothing, so it
 * plans as a first run would. Apply reserves each change again: scopes of one sweep plan at the same time,
 * and only the reservation holds the sweep's cap.
 */
async function changesLeft(d: Deps, scope: StepInput['scope']): Promise<number> {
  if (d.dryRun) return d.policy.limits.maxChangesPerRun;
  const caps = changeCaps(d.policy);
  const used = await d.changeBudget.used(budgetOwner(scope));
  return Math.min(caps.perRun - used.run, used.sweep === null ? Infinity : caps.perSweep - used.sweep);
}

export async function planStep(input: StepInput, d: Deps) {
  const { scope, iteration } = input;
  const key = runKey(scope);
  const [snapshot, report] = await Promise.all([
    d.blobs.getBlob(key, 'snapshot', iteration),
    d.blobs.getBlob(key, 'audit', iteration),
  ]);
  const remediation = plan(report, snapshot, d.policy, {
    at: d.now(),
    dryRun: d.dryRun,
    changesLeft: await changesLeft(d, scope),
  });
  const decisions = await runDecisions(d, scope);
  // A dry run changes nothing, so a second iteration would plan the same again: one pass is the rehearsal.
  const groups =
    d.dryRun && iteration > 0 ? [] : workGroups(remediation, decisions, actionDigests(remediation, snapshot));
  const stored: StoredPlan = { plan: remediation, groups };
  await d.blobs.putBlob(key, 'plan', iteration, stored);
  const ready = groups.reduce(
    (n, g) => n + g.autoActionIds.length + g.preApprovedActionIds.length + g.approvalActionIds.length,
    0,
  );
  return {
    pages: Array.from({ length: pageCount(groups) }, (_, i) => i),
    groups: groups.length,
    ready,
    needApproval: groups.reduce((n, g) => n + g.approvalActionIds.length, 0),
    deferred: remediation.summary.deferred,
    guidance: remediation.summary.guidance,
    monthlyCostDeltaUsd: remediation.summary.monthlyCostDeltaUsd,
    transitioning: report.vpcs.filter((v) => v.verdict === 'TRANSITIONING').length,
  };
}

export const handler = lambdaHandler('Plan', StepInputSchema, (input) => planStep(input, deps()));
