/**
 * Approvals under faults (issue 9): a request whose SNS publish fails is asked again with the latest token,
 * and the answer reaches the run; a run that fails leaves no approval open; a dry run asks nobody. The real
 * ASL, the real handlers and the real SDK clients against the sandbox, as in loop.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildDeps } from '../../functions/adapters/deps.ts';
import { DRY_RUN_APPROVER } from '../../functions/handlers/apply.ts';
import { requestApproval } from '../../functions/handlers/request-approval.ts';
import type { LocalLoop } from '../../local/loop.ts';
import { ACCOUNT, REGION, replayRecordedEvents, runToEnd, startLoop, stopLoopsAfterEach } from './harness.ts';

let loop: LocalLoop | undefined;
stopLoopsAfterEach();

const approvalRequests = (l: LocalLoop) =>
  l.sandbox.sns.messagesFor(l.topicArn).filter((m) => m.message.startsWith('vecguard asks for approval'));

describe('SNS failing while an approval is requested', () => {
  it('a retry that finds the approval already answered hands that answer to its new token', async () => {
    loop = await startLoop();
    await replayRecordedEvents(loop);
    const l = loop;
    let rejectedOne = false;
    const { runId } = await runToEnd(l, () => {
      if (rejectedOne) return true;
      rejectedOne = true;
      return false;
    });
    const scope = {
      runId,
      accountId: ACCOUNT,
      region: REGION,
      roleArn: null,
      vpcIds: null,
      organizationalUnitIds: [],
    };
    const approvals = await l.approvals.listForRun(runId, scope);
    const approved = approvals.find((a) => a.status === 'approved');
    const rejected = approvals.find((a) => a.status === 'rejected');
    if (!approved || !rejected) throw new Error('the run should have one approved and one rejected approval');
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const d = {
      ...buildDeps(),
      sfn: {
        send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
          sent.push({ name: command.constructor.name, input: command.input });
          return {};
        },
      },
    } as unknown as Parameters<typeof requestApproval>[1];
    const before = approvalRequests(l).length;
    for (const a of [approved, rejected]) {
      const out = await requestApproval(
        {
          scope,
          iteration: a.iteration ?? 0,
          groupId: a.groupId,
          taskToken: `retry-${a.approvalId}`,
          timeoutSeconds: 3600,
        },
        d,
      );
      expect(out).toMatchObject({ approvalId: a.approvalId, created: false, answered: a.status });
    }
    expect(sent.map((s) => [s.name, s.input.taskToken])).toEqual([
      ['SendTaskSuccessCommand', `retry-${approved.approvalId}`],
      ['SendTaskFailureCommand', `retry-${rejected.approvalId}`],
    ]);
    expect(JSON.parse(String(sent[0]?.input.output))).toMatchObject({
      approvalId: approved.approvalId,
      approved: true,
    });
    expect(sent[1]?.input.error).toBe('ApprovalRejected');
    // Nobody is asked again for what they already answered.
    expect(approvalRequests(l)).toHaveLength(before);
  });
});

describe('a run that fails', () => {
  it('closes every approval it left waiting, so nobody answers a request no run waits for', async () => {
    loop = await startLoop();
    await replayRecordedEvents(loop);
    // payments' switch to enforce fails for good once approved; the other groups' requests stay unanswered.
    loop.sandbox.faults.add({
      service: 'ec2',
      action: 'ModifyVpcEncryptionControl',
      errorCode: 'InternalError',
    });
    const { result, runId, approvals } = await runToEnd(loop, (a) =>
      a.target.name === 'payments' ? true : undefined,
    );
    expect(result.status).toBe('FAILED');
    const unanswered = approvals.filter((a) => a.target.name !== 'payments');
    expect(unanswered.length).toBeGreaterThan(0);
    const stored = await loop.approvals.listForRun(runId, { accountId: ACCOUNT, region: REGION });
    expect(stored.filter((a) => a.status === 'pending')).toEqual([]);
    for (const a of unanswered) {
      const closed = stored.find((s) => s.approvalId === a.approvalId);
      expect(closed).toMatchObject({ status: 'expired', reason: 'the run failed' });
    }
    expect(await loop.approvals.listPending(new Date())).toEqual([]);
  });
});

describe('a dry run', () => {
  it('asks nobody: no approval stored or sent, and what would be asked is recorded as dry-run calls', async () => {
    loop = await startLoop({ dryRun: true });
    await replayRecordedEvents(loop);
    const { result, runId, approvals, summary } = await runToEnd(loop, () => true);
    expect(result.status).toBe('SUCCEEDED');
    expect(approvals).toEqual([]);
    expect(approvalRequests(loop)).toEqual([]);
    expect(await loop.approvals.listForRun(runId, { accountId: ACCOUNT, region: REGION })).toEqual([]);
    const entries = (await loop.auditLog.listAuditEntries(ACCOUNT, REGION)).filter((e) => e.runId === runId);
    expect(entries.length).toBeGreaterThan(0);
    // Nothing applied, nobody named as approver: the example policy gates every action by approval.
    for (const e of entries) {
      expect(['dry-run', 'refused']).toContain(e.outcome);
      expect(e.approvedBy).toBe(DRY_RUN_APPROVER);
    }
    expect(entries.filter((e) => e.outcome === 'dry-run').length).toBeGreaterThan(0);
    expect(summary?.actions.applied).toBe(0);
  });
});
