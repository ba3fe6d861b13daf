/**
 * Apply's own check that an approval binds to what it showed (docs/loop.md): whatever the plan's groups say,
 * an approved action is applied only while its digest as planned now is the approved one, in both modes, and
 * a difference is neither an apply nor a failure. The plan and snapshot are a real run's, against the sandbox.
 */
import { describe, expect, it } from 'vitest';
import { buildDeps } from '../../functions/adapters/deps.ts';
import { actionDigest, approvalDigest } from '../../functions/domain/approval-digest.ts';
import type { PlannedAction } from '../../functions/domain/remediation-plan.ts';

import { apply } from '../../functions/handlers/apply.ts';
import type { LocalLoop } from '../../local/loop.ts';
import {
  ACCOUNT,
  mutatingEc2Calls,
  REGION,
  runToEnd,
  startLoop,
  stopLoopsAfterEach,
} from '../e2e/harness.ts';

let loop: LocalLoop | undefined;
stopLoopsAfterEach();

const APPROVER = 'arn:aws:iam::111111111111:user/alex';

/** One run of the one-approval scenario, rejected: its plan (switch orders to enforce) and snapshot stay. */
async function rejectedRun() {
  loop = await startLoop({ scenario: 'test/fixtures/scenarios/one-approval.yaml' });
  const { runId } = await runToEnd(loop, () => false);
  const key = { runId, accountId: ACCOUNT, region: REGION };
  const stored = await loop.blobs.getBlob(key, 'plan', 0);
  const snapshot = await loop.blobs.getBlob(key, 'snapshot', 0);
  const enforce = stored.plan.actions.find((a) => a.kind === 'switch-to-enforce');
  if (!enforce) throw new Error('the plan should switch orders to enforce');
  return { l: loop, stored, snapshot, enforce };
}

/** A new run holding the same plan and snapshot, with `enforce` in the group as `place` says and approved as `shown`. */
async function runWith(
  l: LocalLoop,
  base: Awaited<ReturnType<typeof rejectedRun>>,
  runId: string,
  place: 'preApprovedActionIds' | 'approvalActionIds',
  shown: PlannedAction,
) {
  const scope = {
    runId,
    accountId: ACCOUNT,
    region: REGION,
    roleArn: null,
    vpcIds: null,
    organizationalUnitIds: [],
  };
  const groupId = base.enforce.vpcId ?? base.enforce.resourceId;
  const group = {
    groupId,
    targetType: 'vpc' as const,
    autoActionIds: [],
    preApprovedActionIds: [],
    approvalActionIds: [],
    [place]: [base.enforce.id],
  };
  await l.blobs.putBlob(scope, 'snapshot', 0, base.snapshot);
  await l.blobs.putBlob(scope, 'plan', 0, { plan: base.stored.plan, groups: [group] });
  const action = {
    actionId: base.enforce.id,
    kind: base.enforce.kind,
    resourceId: base.enforce.resourceId,
    summary: 'switch orders to enforce mode',
    reason: base.enforce.reason,
    risks: base.enforce.risks,
    monthlyCostDeltaUsd: base.enforce.monthlyCostDeltaUsd,
    digest: actionDigest(shown, base.snapshot),
  };
  const approvalId = `apr-${runId}`;
  const now = new Date();
  await l.approvals.createApproval({
    approvalId,
    taskToken: 'token',
    runId,
    accountId: ACCOUNT,
    region: REGION,
    groupId,
    iteration: 0,
    target: { type: 'vpc', id: groupId },
    actionIds: [base.enforce.id],
    actions: [action],
    digest: approvalDigest([action]),
    monthlyCostUsd: 0,
    requestedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
  });
  await l.approvals.decide(approvalId, { approved: true, approver: APPROVER, now: new Date() });
  return { scope, groupId, approvalId };
}

const entriesOf = async (l: LocalLoop, runId: string) =>
  (await l.auditLog.listAuditEntries(ACCOUNT, REGION)).filter((e) => e.runId === runId);

describe('Apply under an approval whose digest is not what is planned now', () => {
  it('applies nothing and does not fail, in mode auto and in mode approved; the same approval as shown applies', async () => {
    const base = await rejectedRun();
    const { l, enforce } = base;
    // Approved with another exclusion than the plan now relies on: another action under the same id.
    const other: PlannedAction = { ...enforce, params: { ...enforce.params, exclusions: ['NatGateway'] } };
    const before = mutatingEc2Calls(l).length;
    const d = buildDeps();

    const auto = await runWith(l, base, 'run-digest-auto', 'preApprovedActionIds', other);
    await expect(apply({ ...auto, iteration: 0, mode: 'auto' }, d)).resolves.toMatchObject({
      applied: 0,
      failed: 0,
    });
    expect(await entriesOf(l, 'run-digest-auto')).toEqual([]);

    const approved = await runWith(l, base, 'run-digest-approved', 'approvalActionIds', other);
    const answer = { approvalId: approved.approvalId, approved: true as const, approver: APPROVER };
    await expect(
      apply({ ...approved, iteration: 0, mode: 'approved', approval: answer }, d),
    ).resolves.toMatchObject({ applied: 0, failed: 0 });
    expect(await entriesOf(l, 'run-digest-approved')).toEqual([]);
    expect(mutatingEc2Calls(l)).toHaveLength(before);

    // The control: approved as it is planned, the same apply switches the VPC.
    const same = await runWith(l, base, 'run-digest-same', 'preApprovedActionIds', enforce);
    await expect(apply({ ...same, iteration: 0, mode: 'auto' }, d)).resolves.toMatchObject({ applied: 1 });
    expect(
      (await entriesOf(l, 'run-digest-same')).map((e) => [e.outcome, e.approvalId, e.approvedBy]),
    ).toEqual([['applied', same.approvalId, APPROVER]]);
  });
});
