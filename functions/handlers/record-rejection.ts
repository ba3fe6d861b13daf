/**
 * RecordRejection: an approval that timed out is marked expired (a timeout counts as "no"); one a person
 * rejected was already recorded by `vecguard approve --reject`. Either way nothing of the group is applied.
 */

import type { z } from 'zod';
import { type Deps, deps } from '../adapters/deps.ts';
import { approvalIdFor } from '../adapters/store/approvals.ts';
import { ApprovalAlreadyDecidedError, ApprovalNotFoundError } from '../adapters/store/errors.ts';
import { RecordRejectionInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';

export async function recordRejection(input: z.infer<typeof RecordRejectionInputSchema>, d: Deps) {
  const { scope, groupId, rejection } = input;
  const approvalId = approvalIdFor({
    runId: scope.runId,
    accountId: scope.accountId,
    region: scope.region,
    iteration: input.iteration ?? 0,
    groupId,
  });
  if (rejection.Error === 'States.Timeout') {
    try {
      const expired = await d.approvals.closeTimedOut(approvalId, d.now());
      return { approvalId, status: expired.status, reason: 'timed out' };
    } catch (e) {
      // Answered at the last moment: the answer stands, and the task's outcome (timeout) means nothing ran.
      // Not found: the task timed out before RequestApproval stored it; there is nothing to close.
      if (e instanceof ApprovalNotFoundError)
        return { approvalId, status: 'never-stored', reason: 'timed out' };
      if (!(e instanceof ApprovalAlreadyDecidedError)) throw e;
    }
  }
  const approval = await d.approvals.getApproval(approvalId);
  return { approvalId, status: approval?.status ?? 'unknown', reason: rejection.Error };
}

export const handler = lambdaHandler('RecordRejection', RecordRejectionInputSchema, (input) =>
  recordRejection(input, deps()),
);
