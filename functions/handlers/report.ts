/**
 * Report: where the scope ended, compared with where it started — verdict per VPC before and after, the
 * actions applied, approvals, findings — stored for the CLI and summarised on SNS. It reads what the steps
 * stored: every iteration's audit and plan, and, when the iterations ran out after applying, the final pass
 * (FinalInventory → FinalAudit → FinalFindings: blobs `final-snapshot` and `final`, the findings counts in
 * the input), so the "after" is the estate as it is, not as it was an iteration ago. The summary itself is
 * folded by the domain (functions/domain/run-summary.ts).
 */

import { budgetOwner, type Deps, deps, runKey } from '../adapters/deps.ts';
import { notify } from '../adapters/notifier.ts';
import { closeOpenIntents } from '../adapters/run-changes.ts';
import { runReportNotification } from '../domain/notifications.ts';
import {
  countVerdicts,
  type RunRecord,
  type RunSummary,
  runReportNotice,
  summariseRun,
} from '../domain/run-summary.ts';
import type { AuditReport } from '../domain/verdict.ts';
import { AwsCallError } from '../shared/errors.ts';
import { type ReportInput, ReportInputSchema } from './inputs.ts';
import { lambdaHandler } from './middy.ts';
import { endRunLease } from './run-lease.ts';

/** The stored `report` blob (the summary is the domain's: functions/domain/run-summary.ts). */
export type { RunSummary };

export async function report(input: ReportInput, d: Deps) {
  const { scope } = input;
  const key = runKey(scope);
  // Every iteration that got as far as an audit, in order.
  const audits: AuditReport[] = [];
  for (let i = 0; i <= input.iterations; i++) {
    const a = await d.blobs.findBlob(key, 'audit', i);
    if (a) audits.push(a);
  }
  // A step that stopped between a change and its record left an intent open: read its outcome back now, so
  // the report counts it. One that cannot be read back fails the run, and FailureReport names it.
  const unread = await closeOpenIntents(d, scope, 'Report');
  if (unread.length > 0) {
    throw new AwsCallError(
      'ec2',
      'ReadBack',
      'OutcomeUnknown',
      `${unread.length} change(s) of this run have an intent but no outcome that could be read back: ${unread
        .map(({ intent, why }) => `${intent.kind} on ${intent.resourceId} (${why})`)
        .join('; ')}`,
    );
  }
  const first = audits[0];
  const lastIteration = audits.length - 1;
  const last = audits[lastIteration];
  const attempts = await d.auditLog.listAuditEntries(
    scope.accountId,
    scope.region,
    first ? { since: first.takenAt } : {},
  );

  // The final pass stores under the iteration count; absent when nothing was applied after the last audit.
  const fresh = await d.blobs.findBlob(key, 'final', input.iterations);
  const final = fresh ?? last;
  if (!final) throw new Error(`no audit stored for run ${scope.runId}: nothing to report on`);
  const finalSnapshot = fresh
    ? await d.blobs.getBlob(key, 'final-snapshot', input.iterations)
    : await d.blobs.getBlob(key, 'snapshot', lastIteration);
  const published = fresh ? input.finalFindings : null;
  const findings: RunSummary['findings'] = published
    ? {
        imported: published.imported,
        resolved: published.resolved,
        archived: published.archived,
        failed: published.failedCount ?? 0,
      }
    : null;

  const plans: RunRecord['plans'][number][] = [];
  for (let i = 0; i <= lastIteration; i++) plans.push((await d.blobs.findBlob(key, 'plan', i))?.plan);
  const record: RunRecord = {
    scope,
    dryRun: d.dryRun,
    iterations: input.iterations,
    finishedAt: d.now().toISOString(),
    audits,
    final: { audit: final, snapshot: finalSnapshot, fresh: fresh !== undefined },
    plans,
    attempts,
    // The run ends here: an approval still pending can no longer be answered, so it is closed as expired.
    approvals: (await d.approvals.closeUnansweredOfRun(scope.runId, scope, d.now())).approvals,
    findings,
    heldBack: d.dryRun ? [] : (await d.changeBudget.ofRun(budgetOwner(scope))).heldBack,
  };
  const summary = summariseRun(record);
  await d.blobs.putBlob(key, 'report', 0, summary);
  // The scope is free again, or handed to one follow-up run for what events named meanwhile.
  await endRunLease(scope, d);
  await notify(d.sns, d.config.topicArn, runReportNotification(runReportNotice(record, summary)));
  // The full summary can be large; the state machine's output carries its counts and where to find it.
  return {
    runId: scope.runId,
    accountId: scope.accountId,
    region: scope.region,
    iterations: summary.iterations,
    verdicts: countVerdicts(final),
    actions: summary.actions,
    approvals: summary.approvals,
    deferredCap: summary.deferredCap ?? 0,
    stored: { pk: `RUN#${scope.runId}#${scope.accountId}#${scope.region}`, name: 'report' },
  };
}

export const handler = lambdaHandler('Report', ReportInputSchema, (input) => report(input, deps()));
