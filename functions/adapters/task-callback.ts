/**
 * Answering a waiting task with a decision already recorded: a retried RequestApproval (a new task token)
 * that finds its approval answered hands the answer to the attempt that now waits, in the same shape as
 * `vecguard approve` (functions/adapters/approver.ts), so the run goes on exactly as if the person had
 * answered this token. Step Functions accepts a token's answer from any caller, including the invoked
 * function itself (docs/design.md §2).
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { toAwsCallError } from '../shared/errors.ts';
import type { Approval } from './store/approvals.ts';

/** Step Functions no longer waits on this token: the task timed out, was retried with a new one, or ended. */
export class TaskNoLongerWaitingError extends Error {
  readonly code: string;
  constructor(code: string) {
    super(`the task token is no longer awaited (${code})`);
    this.name = 'TaskNoLongerWaitingError';
    this.code = code;
  }
}

const DEAD_TOKEN = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export async function answerTaskWithDecision(
  sfn: Pick<SFNClient, 'send'>,
  taskToken: string,
  approval: Approval,
): Promise<void> {
  try {
    if (approval.status === 'approved') {
      await sfn.send(
        new SendTaskSuccessCommand({
          taskToken,
          // Only says which approval to read: ApplyApproved trusts the store, not this output.
          output: JSON.stringify({
            approvalId: approval.approvalId,
            approved: true,
            approver: approval.decidedBy,
            ...(approval.reason ? { reason: approval.reason } : {}),
          }),
        }),
      );
      return;
    }
    const by = approval.status === 'rejected' ? `rejected by ${approval.decidedBy}` : 'expired';
    await sfn.send(
      new SendTaskFailureCommand({
        taskToken,
        error: 'ApprovalRejected',
        cause: `${by}${approval.reason ? `: ${approval.reason}` : ''}`.slice(0, 32_768),
      }),
    );
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    if (DEAD_TOKEN.has(name)) throw new TaskNoLongerWaitingError(name);
    throw toAwsCallError(e, 'states', approval.status === 'approved' ? 'SendTaskSuccess' : 'SendTaskFailure');
  }
}
