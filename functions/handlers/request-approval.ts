/**
 * RequestApproval: store what a person is asked to approve (with the task token and an expiry), and tell
 * them through SNS how to answer. The task then waits: the answer comes from `vecguard approve`, made with
 * the approver's own AWS identity (docs/loop.md). Nothing in the message can approve anything.
 */

import { type Deps, deps, runKey } from '../adapters/deps.ts';
import { notify } from '../adapters/notifier.ts';
import { type ApprovalInput, approvalIdFor } from '../adapters/store/approvals.ts';
import { ApprovalAlreadyDecidedError, ApprovalExistsError } from '../adapters/store/errors.ts';
import { answerTaskWithDecision } from '../adapters/task-callback.ts';
import { ACTION_RISKS } from '../domain/action-kinds.ts';
import { describeAction, namesOf } from '../domain/action-text.ts';
import { actionDigest, approvalDigest } from '../domain/approval-digest.ts';
import { approvalRequestNotification } from '../domain/notifications.ts';
import { InvalidInputError } from '../shared/errors.ts';
import { type RequestApprovalInput, RequestApprovalInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

export async function requestApproval(input: RequestApprovalInput, d: Deps) {
  const { scope, iteration, groupId, taskToken, timeoutSeconds } = input;
  // LoadPage gives a dry run nothing to request; a task that gets here anyway asks nobody and reads nothing.
  if (d.dryRun) throw new InvalidInputError('a dry run asks nobody: no approval is requested');
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
  // What the person is shown, each action with the digest its approval binds to (the before-state is this
  // iteration's snapshot, the one the plan was made from).
  const shown = actions.map((a) => ({
    actionId: a.id,
    kind: a.kind,
    resourceId: a.resourceId,
    summary: describeAction(a, names),
    reason: a.reason,
    risks: [...ACTION_RISKS[a.kind]],
    monthlyCostDeltaUsd: a.monthlyCostDeltaUsd,
    digest: actionDigest(a, snapshot),
  }));
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
    actions: shown,
    digest: approvalDigest(shown),
    monthlyCostUsd: actions.reduce((sum, a) => sum + a.monthlyCostDeltaUsd, 0),
    dryRun: d.dryRun,
    requestedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + (timeoutSeconds * 1000) / d.timeScale).toISOString(),
  };
  try {
    await d.approvals.createApproval(request);
  } catch (e) {
    if (!(e instanceof ApprovalExistsError)) throw e;
    // A retried attempt (a new token): the approval is already stored, perhaps already answered.
    return renewed(request, d);
  }
  await notify(d.sns, d.config.topicArn, approvalRequestNotification(request));
  return { approvalId, created: true };
}

/**
 * Step Functions retries this task with a new token after a failed attempt (SNS down, say). A pending
 * approval takes the new token and is asked again, so the person is told, and their answer reaches the
 * attempt that waits. One answered in between (the conditional update on `pending` decides which came
 * first) is handed to the new token as it stands: an approval approves the run, a rejection rejects it, so
 * what the person was told is what happens.
 */
async function renewed(request: ApprovalInput & { taskToken: string; approvalId: string }, d: Deps) {
  const { approvalId, taskToken } = request;
  try {
    const approval = await d.approvals.renewRequest(approvalId, {
      taskToken,
      expiresAt: request.expiresAt,
      now: d.now(),
    });
    await notify(d.sns, d.config.topicArn, approvalRequestNotification({ ...request, ...approval }));
    return { approvalId, created: false, renewed: true };
  } catch (e) {
    if (!(e instanceof ApprovalAlreadyDecidedError)) throw e;
  }
  const decided = await d.approvals.getApproval(approvalId);
  if (!decided) throw new InvalidInputError(`approval ${approvalId} disappeared while it was requested`);
  await answerTaskWithDecision(d.sfn, taskToken, decided);
  return { approvalId, created: false, answered: decided.status };
}

export const handler = lambdaHandler('RequestApproval', RequestApprovalInputSchema, (input) =>
  requestApproval(input, deps()),
);
