/**
 * FailureReport: a step failed for good. Say which step, which error, what the run changed (from the audit
 * log, after reading back any change a dying step left unrecorded) and what to do, on SNS, so a failure is
 * never silent; the execution then ends in the Fail state.
 */
import type { z } from 'zod';
import { type Deps, deps } from '../adapters/deps.ts';
import { unrecordedChangesOf } from '../adapters/execution-history.ts';
import { notify } from '../adapters/notifier.ts';
import { changesOfRun, messageOf } from '../adapters/run-changes.ts';
import { failureReportNotification } from '../domain/notifications.ts';
import { logger } from '../shared/powertools.ts';
import { FailureReportInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';
import { endRunLease } from './run-lease.ts';

/** Lambda errors reach Step Functions as `Cause: {"errorType","errorMessage",…}`; handlers prefix the step. */
export function describeCaught(error: { Error: string; Cause?: string | undefined }): {
  state: string;
  name: string;
  message: string;
} {
  let message = error.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string; errorType?: string };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // Not JSON: a Step Functions error such as States.Timeout, whose Cause is plain text.
  }
  const step = /^([A-Z][A-Za-z]+): /.exec(message);
  return {
    state: step?.[1] ?? 'unknown step',
    name: error.Error,
    message: step ? message.slice(step[0].length) : message,
  };
}

export async function failureReport(input: z.infer<typeof FailureReportInputSchema>, d: Deps) {
  const { scope } = input;
  const caught = describeCaught(input.error);
  // Each part below may fail on its own (the table that failed the run may still be failing): the notice
  // goes out whatever happens, saying what could not be done, so a failure is never silent.
  const problems: string[] = [];
  let closedIds: string[] = [];
  try {
    // The run is over: no answer can reach it, so nobody is left looking at a request that changes nothing.
    ({ closedIds } = await d.approvals.closeUnansweredOfRun(scope.runId, scope, d.now(), 'the run failed'));
  } catch (error) {
    problems.push(`The run's open approval requests could not be closed: ${messageOf(error)}`);
  }
  const recorded = await changesOfRun(d, scope, 'FailureReport', problems);
  // The history keeps what a step could not write to the table: read it whatever the table says.
  let unrecorded: string[] = [];
  if (input.executionArn) {
    try {
      unrecorded = await unrecordedChangesOf(d.sfn, input.executionArn);
    } catch (error) {
      problems.push(`The execution history could not be read: ${messageOf(error)}`);
    }
  }
  await notify(
    d.sns,
    d.config.topicArn,
    failureReportNotification({
      runId: scope.runId,
      accountId: scope.accountId,
      region: scope.region,
      state: caught.state,
      error: { name: caught.name, message: caught.message },
      at: d.now().toISOString(),
      changes: recorded.changes,
      openIntents: recorded.openIntents,
      unrecorded,
      problems,
    }),
  );
  // A failed run must not keep its scope: free it, or hand what events named meanwhile to one follow-up. After
  // the notice, and never instead of it: should this fail too, the lease's expiry frees the scope, and the
  // run that takes it over covers what is pending.
  const lease = await endRunLease(scope, d).then(
    (ended) => ended.lease,
    (error: unknown) => {
      logger.error('could not release the scope lease of the failed run: it frees itself when it expires', {
        runId: scope.runId,
        error,
      });
      return 'kept-until-expiry' as const;
    },
  );
  return {
    reported: true,
    ...caught,
    approvalsClosed: closedIds,
    changes: recorded.changes?.length ?? null,
    openIntents: recorded.openIntents.length,
    unrecorded: unrecorded.length,
    lease,
  };
}

export const handler = lambdaHandler('FailureReport', FailureReportInputSchema, (input) =>
  failureReport(input, deps()),
);
