/**
 * RequestApproval: store what a person is asked to approve (with the task token and an expiry), and tell
 * them through SNS how to answer. The task then waits: the answer comes from `vecguard approve`, made with
 * the approver's own AWS identity (docs/loop.md). Nothing in the message can approve anything.
 */

import { type Deps, deps, runKey } from '../adapters/deps.ts';
import { notify } from '../adapters/notifier.ts';
import { approvalIdFor } from '../adapters/store/approvals.ts';
import { ApprovalExistsError } from '../adapters/store/errors.ts';
import { ACTION_RISKS } from '../domain/action-kinds.ts';
import { describeAction, namesOf } from '../domain/action-text.ts';
import { approvalRequestNotification } from '../domain/notifications.ts';
import { InvalidInputError } from '../shared/errors.ts';
import { type RequestApprovalInput, RequestApprovalInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

export async function requestApproval(input: RequestApprovalInput, d: Deps) {
  const { scope, iteration, groupId, taskToken, timeoutSeconds } = input;
  const key = runKey(scope);
  const [stored, snapshot] = await Promise.all([
    d.blobs.getBlob(key, 'plan', iteration),
    d.blobs.getBlob(key, 'snapshot', iteration),
  ]);
  const group = stored.groups.find((g) => g.groupId === groupId);
  if (!group || group.approvalActionIds.length === 0) {
    throw new InvalidInputError(`group ${groupId} has nothing to approve in iteration ${iteration}`);
  }
  const names = namesOf(snapshot);
  const asked = new Set(group.approvalActionIds);
  const actions = stored.plan.actions.filter((a) => asked.has(a.id));
  const now = d.now();
  const approvalId = approvalIdFor({
    runId: scope.runId,
    accountId: scope.accountId,
    region: scope.region,
    iteration,
    groupId,
  });
  const request = {
    approvalId,
    taskToken,
    runId: scope.runId,
    accountId: scope.accountId,
    region: scope.region,
    groupId,
    iteration,
    target: { type: group.targetType, id: groupId, ...(names[groupId] ? { name: names[groupId] } : {}) },
    actionIds: actions.map((a) => a.id),
    actions: actions.map((a) => ({
      actionId: a.id,
      kind: a.kind,
      resourceId: a.resourceId,
      summary: describeAction(a, names),
      reason: a.reason,
      risks: [...ACTION_RISKS[a.kind]],
      monthlyCostDeltaUsd: a.monthlyCostDeltaUsd,
    })),
    monthlyCostUsd: actions.reduce((sum, a) => sum + a.monthlyCostDeltaUsd, 0),
    dryRun: d.dryRun,
    requestedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + (timeoutSeconds * 1000) / d.timeScale).toISOString(),
  };
  try {
    await d.approvals.createApproval(request);
  } catch (e) {
    // A retried invocation of this task: the approval (and its notification) already exist.
    if (e instanceof ApprovalExistsError) return { approvalId, created: false };
    throw e;
  }
  await notify(d.sns, d.config.topicArn, approvalRequestNotification(request));
  return { approvalId, created: true };
}

export const handler = lambdaHandler('RequestApproval', RequestApprovalInputSchema, (input) =>
  requestApproval(input, deps()),
);
