/**
 * Report: where the scope ended, compared with where it started — verdict per VPC before and after, the
 * actions applied, approvals, findings — stored for the CLI and summarised on SNS. When anything was applied
 * after the last audit, the scope is read and audited once more (and its findings published) so the "after"
 * is the estate as it is, not as it was an iteration ago. The summary itself is folded by the domain
 * (functions/domain/run-summary.ts); this step reads what the run recorded and stores what it gives.
 */

import { type Deps, deps, runKey } from '../adapters/deps.ts';
import { readInventory } from '../adapters/inventory.ts';
import { notify } from '../adapters/notifier.ts';
import { audit } from '../domain/audit.ts';
import { runReportNotification } from '../domain/notifications.ts';
import {
  countVerdicts,
  needsFreshAudit,
  type RunRecord,
  type RunSummary,
  runReportNotice,
  summariseRun,
} from '../domain/run-summary.ts';
import type { AuditReport, VerdictKind } from '../domain/verdict.ts';
import { ReportInputSchema, type StepInput } from './inputs.ts';
import { lambdaHandler } from './middy.ts';
import { publishFindingsStep } from './publish-findings.ts';

/** The stored `report` blob (the summary is the domain's: functions/domain/run-summary.ts). */
export type { RunSummary };

export async function report(input: StepInput & { iterations: number }, d: Deps) {
  const { scope } = input;
  const key = runKey(scope);
  // Every iteration that got as far as an audit, in order.
  const audits: AuditReport[] = [];
  for (let i = 0; i <= input.iterations; i++) {
    const a = await d.blobs.findBlob(key, 'audit', i);
    if (a) audits.push(a);
  }
  const first = audits[0];
  const lastIteration = audits.length - 1;
  const last = audits[lastIteration];
  const attempts = await d.auditLog.listAuditEntries(
    scope.accountId,
    scope.region,
    first ? { since: first.takenAt } : {},
  );

  let final = last;
  let finalSnapshot = last ? await d.blobs.findBlob(key, 'snapshot', lastIteration) : undefined;
  let findings: RunSummary['findings'] = null;
  if (needsFreshAudit(last, attempts, scope.runId) || !finalSnapshot) {
    const ec2 = await d.ec2For(scope);
    finalSnapshot = await readInventory(ec2, {
      accountId: scope.accountId,
      region: scope.region,
      takenAt: d.now().toISOString(),
      organizationalUnitIds: scope.organizationalUnitIds,
      ...(scope.vpcIds ? { vpcIds: scope.vpcIds } : {}),
    });
    final = audit(finalSnapshot, d.policy, await d.history.getVerdictHistory(scope.accountId, scope.region));
    await d.blobs.putBlob(key, 'final-snapshot', input.iterations, finalSnapshot);
    await d.blobs.putBlob(key, 'final', input.iterations, final);
    const published = await publishFindingsStep({ scope, iteration: input.iterations }, d, 'final');
    findings = {
      imported: published.imported,
      resolved: published.resolved,
      archived: published.archived,
      failed: published.failedCount ?? 0,
    };
    const verdicts: Record<string, VerdictKind> = await d.history.getVerdictHistory(
      scope.accountId,
      scope.region,
    );
    for (const v of final.vpcs) verdicts[v.vpcId] = v.verdict;
    await d.history.putVerdictHistory(scope.accountId, scope.region, verdicts, {
      updatedAt: final.takenAt,
      runId: scope.runId,
    });
  }
  if (!final || !finalSnapshot) throw new Error('no audit to report on');

  const plans: RunRecord['plans'][number][] = [];
  for (let i = 0; i <= lastIteration; i++) plans.push((await d.blobs.findBlob(key, 'plan', i))?.plan);
  const record: RunRecord = {
    scope,
    dryRun: d.dryRun,
    iterations: input.iterations,
    finishedAt: d.now().toISOString(),
    audits,
    final: { audit: final, snapshot: finalSnapshot, fresh: final !== last },
    plans,
    attempts,
    // The run ends here: an approval still pending can no longer be answered, so it is closed as expired.
    approvals: (await d.approvals.closeUnansweredOfRun(scope.runId, scope, d.now())).approvals,
    findings,
  };
  const summary = summariseRun(record);
  await d.blobs.putBlob(key, 'report', 0, summary);
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
    stored: { pk: `RUN#${scope.runId}#${scope.accountId}#${scope.region}`, name: 'report' },
  };
}

export const handler = lambdaHandler('Report', ReportInputSchema, (input) => report(input, deps()));
