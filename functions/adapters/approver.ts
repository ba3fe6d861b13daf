/**
 * Answering an approval, as the approver: with their own AWS identity (STS GetCallerIdentity is what the
 * audit log records), once (the store's conditional update refuses a second answer or an expired one), and
 * then through Step Functions, which accepts a task token once. Used by `vecguard approve` and the demo.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { STSClient } from '@aws-sdk/client-sts';
import { toAwsCallError } from '../shared/errors.ts';
import { whoAmI } from './identity.ts';
import type { Approval, ApprovalStore } from './store/approvals.ts';

export interface ApproverDeps {
  readonly approvals: ApprovalStore;
  readonly sfn: SFNClient;
  readonly sts: STSClient;
  readonly now: () => Date;
}

export interface Answer {
  readonly approve: boolean;
  readonly reason?: string;
}

/** The run stopped waiting (timed out or ended) between the decision and the answer. */
export class ApprovalNoLongerAwaitedError extends Error {
  constructor(approvalId: string, code: string) {
    super(
      `approval ${approvalId} was recorded, but the run no longer waits for it (${code}); nothing will be applied`,
    );
    this.name = 'ApprovalNoLongerAwaitedError';
  }
}

export async function answerApproval(d: ApproverDeps, approvalId: string, answer: Answer): Promise<Approval> {
  const identity = await whoAmI(d.sts);
  const decided = await d.approvals.decide(approvalId, {
    approved: answer.approve,
    approver: identity.arn,
    ...(answer.reason ? { reason: answer.reason } : {}),
    now: d.now(),
  });
  try {
    if (answer.approve) {
      await d.sfn.send(
        new SendTaskSuccessCommand({
          taskToken: decided.taskToken,
          // Only says which approval to read: ApplyApproved trusts the store, not this output.
          output: JSON.stringify({
            approvalId,
            approved: true,
            approver: identity.arn,
            ...(answer.reason ? { reason: answer.reason } : {}),
          }),
        }),
      );
    } else {
      await d.sfn.send(
        new SendTaskFailureCommand({
          taskToken: decided.taskToken,
          error: 'ApprovalRejected',
          cause: `rejected by ${identity.arn}${answer.reason ? `: ${answer.reason}` : ''}`.slice(0, 32_768),
        }),
      );
    }
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    if (name === 'TaskTimedOut' || name === 'TaskDoesNotExist' || name === 'InvalidToken') {
      throw new ApprovalNoLongerAwaitedError(approvalId, name);
    }
    throw toAwsCallError(e, 'states', answer.approve ? 'SendTaskSuccess' : 'SendTaskFailure');
  }
  return decided;
}
